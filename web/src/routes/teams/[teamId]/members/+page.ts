// A team's members and pending invitations (depends on `app:members`, `app:invitations`). Invitations are listed for
// the roles that manage the team only.
import { api, ok } from '#lib/api/client.ts';
import { can } from '#lib/api/models.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, parent }) => {
  depends('app:members', 'app:invitations', 'app:projects');
  const { role } = await parent();
  const path = { teamId: params.teamId };
  const [members, invitations, projects] = await Promise.all([
    ok(api.GET('/api/teams/{teamId}/members', { params: { path, query: { limit: 100 } } })),
    can(role, 'manage') ? ok(api.GET('/api/teams/{teamId}/invitations', { params: { path, query: { limit: 100 } } })) : null,
    ok(api.GET('/api/teams/{teamId}/projects', { params: { path, query: { limit: 100 } } })),
  ]);
  return { members, invitations, projects: projects.items };
};
