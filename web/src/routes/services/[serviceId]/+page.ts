// A service: its configuration, variables and domains (depends on `app:service`, `app:variables`, `app:domains`),
// plus its environment's services and shared variables for reference autocompletion, and the caller's role. The
// deployments tab also loads deployments and cron runs (`app:deployments`, `app:runs`, invalidated live by the team
// event stream); the metrics tab loads the series of the chosen range (`app:metrics`).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

const RANGES: Record<string, { seconds: number; step: number }> = {
  '1h': { seconds: 3_600, step: 60 }, '6h': { seconds: 21_600, step: 600 }, '24h': { seconds: 86_400, step: 600 }, '7d': { seconds: 604_800, step: 3_600 },
};

export const load: PageLoad = async ({ params, depends, parent, url }) => {
  depends('app:service', 'app:variables', 'app:domains', 'app:deployments', 'app:runs', 'app:metrics');
  const path = { serviceId: params.serviceId };
  const tab = url.searchParams.get('tab') ?? 'settings';
  const range = RANGES[url.searchParams.get('range') ?? '1h'] ?? RANGES['1h']!;
  const now = Date.now();
  const [service, variables, domains, deployments, runs, metrics, { session }] = await Promise.all([
    ok(api.GET('/api/services/{serviceId}', { params: { path } })),
    ok(api.GET('/api/services/{serviceId}/variables', { params: { path } })),
    ok(api.GET('/api/services/{serviceId}/domains', { params: { path, query: { limit: 100 } } })),
    tab === 'deployments' ? ok(api.GET('/api/services/{serviceId}/deployments', { params: { path, query: { limit: 50 } } })) : null,
    tab === 'deployments' ? ok(api.GET('/api/services/{serviceId}/runs', { params: { path, query: { limit: 50 } } })) : null,
    tab === 'metrics'
      ? ok(api.GET('/api/services/{serviceId}/metrics', { params: { path, query: { from: new Date(now - range.seconds * 1000).toISOString(), to: new Date(now).toISOString(), step: range.step } } }))
      : null,
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
  return { tab, service, variables, domains, deployments, runs, metrics, project, environment, team, role: team?.role ?? null, suggestions };
};
