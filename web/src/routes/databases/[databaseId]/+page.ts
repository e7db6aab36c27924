// A managed database: its record, project, environment, the caller's role (depends on `app:database`), its backups
// and the team's backup destinations (`app:backups`).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, parent }) => {
  depends('app:database', 'app:backups');
  const [database, { session }] = await Promise.all([
    ok(api.GET('/api/databases/{databaseId}', { params: { path: { databaseId: params.databaseId } } })),
    parent(),
  ]);
  const [project, environment, backups] = await Promise.all([
    ok(api.GET('/api/projects/{projectId}', { params: { path: { projectId: database.projectId } } })),
    ok(api.GET('/api/environments/{environmentId}', { params: { path: { environmentId: database.environmentId } } })),
    ok(api.GET('/api/databases/{databaseId}/backups', { params: { path: { databaseId: params.databaseId }, query: { limit: 50 } } })),
  ]);
  const destinations = await ok(api.GET('/api/teams/{teamId}/backup-destinations', { params: { path: { teamId: project.teamId }, query: { limit: 100 } } }));
  const team = session?.teams.find((t) => t.id === project.teamId) ?? null;
  return { database, project, environment, backups: backups.items, destinations: destinations.items, team, role: team?.role ?? null };
};
