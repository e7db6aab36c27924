// A project's section: the project, its environments (depends on `app:project`, `app:environments`) and the caller's
// role in the owning team (from the session).
import { api, ok } from '#lib/api/client.ts';
import type { LayoutLoad } from './$types';

export const load: LayoutLoad = async ({ params, depends, parent }) => {
  depends('app:project', 'app:environments');
  const path = { projectId: params.projectId };
  const [project, environments, { session }] = await Promise.all([
    ok(api.GET('/api/projects/{projectId}', { params: { path } })),
    ok(api.GET('/api/projects/{projectId}/environments', { params: { path, query: { limit: 100 } } })),
    parent(),
  ]);
  const team = session?.teams.find((t) => t.id === project.teamId) ?? null;
  return { project, environments: environments.items, team, role: team?.role ?? null };
};
