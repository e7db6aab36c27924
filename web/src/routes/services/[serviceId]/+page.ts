// A service: its configuration, variables and domains (depends on `app:service`, `app:variables`, `app:domains`),
// plus its environment's services and shared variables for reference autocompletion, and the caller's role.
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, parent }) => {
  depends('app:service', 'app:variables', 'app:domains');
  const path = { serviceId: params.serviceId };
  const [service, variables, domains, { session }] = await Promise.all([
    ok(api.GET('/api/services/{serviceId}', { params: { path } })),
    ok(api.GET('/api/services/{serviceId}/variables', { params: { path } })),
    ok(api.GET('/api/services/{serviceId}/domains', { params: { path, query: { limit: 100 } } })),
    parent(),
  ]);
  const env = { environmentId: service.environmentId };
  const [project, environment, siblings, shared] = await Promise.all([
    ok(api.GET('/api/projects/{projectId}', { params: { path: { projectId: service.projectId } } })),
    ok(api.GET('/api/environments/{environmentId}', { params: { path: env } })),
    ok(api.GET('/api/environments/{environmentId}/services', { params: { path: env, query: { limit: 100 } } })),
    ok(api.GET('/api/environments/{environmentId}/variables', { params: { path: env } })),
  ]);
  const team = session?.teams.find((t) => t.id === project.teamId) ?? null;
  const suggestions = [
    ...shared.items.map((v) => `\${{ shared.${v.key} }}`),
    ...siblings.items
      .filter((s) => s.id !== service.id)
      .flatMap((s) => ['PRIVATE_URL', 'PRIVATE_HOST', 'PRIVATE_PORT', ...(s.public ? ['PUBLIC_URL'] : [])].map((k) => `\${{ ${s.slug}.${k} }}`)),
  ];
  return { service, variables, domains, project, environment, team, role: team?.role ?? null, suggestions };
};
