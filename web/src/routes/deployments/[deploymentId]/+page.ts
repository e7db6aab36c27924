// A deployment: its record and event log (depends on `app:deployments`, which the team event stream invalidates as
// states change), what it deployed — a service, or a managed database (a database's own deployment carries the
// database's ID as `serviceId`) — its project and environment, and the caller's role in the owning team.
import { api, ApiProblem, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, parent }) => {
  depends('app:deployments');
  const p = { path: { deploymentId: params.deploymentId } };
  const [deployment, events, { session }] = await Promise.all([
    ok(api.GET('/api/deployments/{deploymentId}', { params: p })),
    ok(api.GET('/api/deployments/{deploymentId}/events', { params: { ...p, query: { after: 0, limit: 1000 } } })),
    parent(),
  ]);
  const id = deployment.serviceId;
  // The record says what it deployed; a deleted service's or database's deployment still reads (404 on the target).
  const gone = (e: unknown) => {
    if (e instanceof ApiProblem && e.status === 404) return { kind: 'gone' as const, id, name: id };
    throw e;
  };
  const target = deployment.kind === 'database'
    ? await ok(api.GET('/api/databases/{databaseId}', { params: { path: { databaseId: id } } })).then((d) => ({ kind: 'database' as const, id: d.id, name: d.name }), gone)
    : await ok(api.GET('/api/services/{serviceId}', { params: { path: { serviceId: id } } })).then((s) => ({ kind: 'service' as const, id: s.id, name: s.name }), gone);
  const [project, environment] = await Promise.all([
    ok(api.GET('/api/projects/{projectId}', { params: { path: { projectId: deployment.projectId } } })),
    ok(api.GET('/api/environments/{environmentId}', { params: { path: { environmentId: deployment.environmentId } } })),
  ]);
  const team = session?.teams.find((t) => t.id === project.teamId) ?? null;
  return { deployment, events: events.items, target, project, environment, team, role: team?.role ?? null };
};
