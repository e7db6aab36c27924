// A managed database: its record, project, environment and the caller's role (depends on `app:database`).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, parent }) => {
  depends('app:database');
  const [database, { session }] = await Promise.all([
    ok(api.GET('/api/databases/{databaseId}', { params: { path: { databaseId: params.databaseId } } })),
    parent(),
  ]);
  const [project, environment] = await Promise.all([
    ok(api.GET('/api/projects/{projectId}', { params: { path: { projectId: database.projectId } } })),
    ok(api.GET('/api/environments/{environmentId}', { params: { path: { environmentId: database.environmentId } } })),
  ]);
  const team = session?.teams.find((t) => t.id === project.teamId) ?? null;
  return { database, project, environment, team, role: team?.role ?? null };
};
