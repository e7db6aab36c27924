/** Team routes: teams, members, invitations. Authorization is decided in the services. */
import { DomainError } from '../core/errors.ts';
import { PageQuery } from '../core/pagination.ts';
import type { Actor } from '../core/actor.ts';
import { defineRoute, reply, type AnyRoute } from '../http/route.ts';
import { setSessionCookies } from '../auth/cookies.ts';
import { limited } from '../auth/limited.ts';
import type { InvitationService } from './invitations.ts';
import {
  AcceptInvitationBody, AcceptInvitationResponseSchema, CreatedInvitationSchema, CreateInvitationBody, CreateTeamBody,
  InvitationPageSchema, InvitationParams, MemberPageSchema, MemberParams, MemberSchema, TeamPageSchema, TeamParams, TeamSchema,
  UpdateMemberBody, UpdateTeamBody,
} from './schemas.ts';
import type { TeamService } from './service.ts';

/** must returns the actor of a `user` route (buildHttpApp guarantees one). */
export function must(actor: Actor | null): Actor {
  if (!actor) throw new DomainError('auth/unauthenticated');
  return actor;
}

/** teamRoutes declares the team, member and invitation operations. */
export function teamRoutes(teams: TeamService, invitations: InvitationService, cookieSecure: boolean): AnyRoute[] {
  const tags = ['teams'];
  return [
    defineRoute({
      operationId: 'createTeam', method: 'post', path: '/api/teams', summary: 'Create a team (the caller becomes its owner)', tags, auth: 'user',
      body: CreateTeamBody, status: 201, errors: [409], responses: { 201: { description: 'The team', schema: TeamSchema } },
      handler: async ({ actor, body }) => teams.create(must(actor), body),
    }),
    defineRoute({
      operationId: 'listTeams', method: 'get', path: '/api/teams', summary: 'List the caller’s teams', tags, auth: 'user',
      query: PageQuery, status: 200, responses: { 200: { description: 'A page of teams', schema: TeamPageSchema } },
      handler: async ({ actor, query }) => teams.listMine(must(actor), query),
    }),
    defineRoute({
      operationId: 'getTeam', method: 'get', path: '/api/teams/:teamId', summary: 'Get a team', tags, auth: 'user',
      params: TeamParams, status: 200, responses: { 200: { description: 'The team', schema: TeamSchema } },
      handler: async ({ actor, params }) => teams.get(must(actor), params.teamId),
    }),
    defineRoute({
      operationId: 'updateTeam', method: 'patch', path: '/api/teams/:teamId', summary: 'Rename a team (the slug never changes)', tags, auth: 'user',
      params: TeamParams, body: UpdateTeamBody, status: 200, responses: { 200: { description: 'The team', schema: TeamSchema } },
      handler: async ({ actor, params, body }) => teams.update(must(actor), params.teamId, body),
    }),
    defineRoute({
      operationId: 'deleteTeam', method: 'delete', path: '/api/teams/:teamId', summary: 'Delete a team (owners)', tags, auth: 'user',
      params: TeamParams, status: 204, errors: [409], responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        await teams.delete(must(actor), params.teamId);
        return reply(204);
      },
    }),
    defineRoute({
      operationId: 'listMembers', method: 'get', path: '/api/teams/:teamId/members', summary: 'List a team’s members', tags, auth: 'user',
      params: TeamParams, query: PageQuery, status: 200, responses: { 200: { description: 'A page of members', schema: MemberPageSchema } },
      handler: async ({ actor, params, query }) => teams.listMembers(must(actor), params.teamId, query),
    }),
    defineRoute({
      operationId: 'updateMember', method: 'patch', path: '/api/teams/:teamId/members/:userId',
      summary: 'Change a member’s role or project limit (only owners make owners)', tags, auth: 'user',
      params: MemberParams, body: UpdateMemberBody, status: 200, errors: [409], responses: { 200: { description: 'The member', schema: MemberSchema } },
      handler: async ({ actor, params, body }) => teams.updateMember(must(actor), params.teamId, params.userId, body),
    }),
    defineRoute({
      operationId: 'removeMember', method: 'delete', path: '/api/teams/:teamId/members/:userId',
      summary: 'Remove a member, or leave (a team keeps at least one owner)', tags, auth: 'user',
      params: MemberParams, status: 204, errors: [409], responses: { 204: { description: 'Removed' } },
      handler: async ({ actor, params }) => {
        await teams.removeMember(must(actor), params.teamId, params.userId);
        return reply(204);
      },
    }),
    defineRoute({
      operationId: 'createInvitation', method: 'post', path: '/api/teams/:teamId/invitations',
      summary: 'Invite an email to the team (the accept link is mailed and shown once here)', tags, auth: 'user',
      params: TeamParams, body: CreateInvitationBody, status: 201, errors: [409],
      responses: { 201: { description: 'The invitation and its accept link', schema: CreatedInvitationSchema } },
      handler: async ({ actor, params, body }) => invitations.create(must(actor), params.teamId, body),
    }),
    defineRoute({
      operationId: 'listInvitations', method: 'get', path: '/api/teams/:teamId/invitations', summary: 'List pending invitations', tags, auth: 'user',
      params: TeamParams, query: PageQuery, status: 200, responses: { 200: { description: 'A page of invitations', schema: InvitationPageSchema } },
      handler: async ({ actor, params, query }) => invitations.list(must(actor), params.teamId, query),
    }),
    defineRoute({
      operationId: 'deleteInvitation', method: 'delete', path: '/api/teams/:teamId/invitations/:invitationId', summary: 'Withdraw an invitation',
      tags, auth: 'user', params: InvitationParams, status: 204, responses: { 204: { description: 'Withdrawn' } },
      handler: async ({ actor, params }) => {
        await invitations.delete(must(actor), params.teamId, params.invitationId);
        return reply(204);
      },
    }),
    defineRoute({
      operationId: 'acceptInvitation', method: 'post', path: '/api/invitations/accept',
      summary: 'Accept an invitation (logged in as the invitee, or creating the account with a password)', tags, auth: 'public',
      body: AcceptInvitationBody, status: 200, errors: [401, 403, 409, 429],
      responses: { 200: { description: 'Joined', schema: AcceptInvitationResponseSchema } },
      handler: async ({ actor, body, ctx, ip, requestId }) => {
        const r = await limited(ctx, () => invitations.accept(actor, body, { ip, requestId }));
        if (r.session) setSessionCookies(ctx, r.session, cookieSecure);
        return { team: r.team, role: r.role, userId: r.userId, csrfToken: r.session?.csrfToken ?? null };
      },
    }),
  ];
}
