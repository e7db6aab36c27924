/** Team, member and invitation schemas. */
import { z } from 'zod';
import { Roles } from '../core/actor.ts';
import { pageSchema } from '../core/pagination.ts';
import { displayNameSchema, slugSchema } from '../core/slugs.ts';
import { emailSchema, passwordSchema, personNameSchema } from '../users/email.ts';

const role = z.enum(Roles);
const projectIds = z.array(z.uuid()).max(200);

/** TeamParams names a team. */
export const TeamParams = z.object({ teamId: z.uuid() });
/** MemberParams names a member of a team. */
export const MemberParams = z.object({ teamId: z.uuid(), userId: z.uuid() });
/** InvitationParams names an invitation of a team. */
export const InvitationParams = z.object({ teamId: z.uuid(), invitationId: z.uuid() });

/** TeamSchema is a team with the caller's role. */
export const TeamSchema = z
  .object({ id: z.uuid(), slug: z.string(), name: z.string(), role, createdAt: z.string(), updatedAt: z.string() })
  .meta({ id: 'Team' });
/** TeamPageSchema is a page of teams. */
export const TeamPageSchema = pageSchema(TeamSchema).meta({ id: 'TeamPage' });

/** CreateTeamBody creates a team; the slug defaults to one derived from the name and never changes. */
export const CreateTeamBody = z.object({ name: displayNameSchema, slug: slugSchema.optional() }).strict().meta({ id: 'CreateTeamRequest' });
/** UpdateTeamBody renames a team (the display name only). */
export const UpdateTeamBody = z.object({ name: displayNameSchema }).strict().meta({ id: 'UpdateTeamRequest' });

/** MemberSchema is a member. */
export const MemberSchema = z
  .object({ userId: z.uuid(), email: z.string(), name: z.string(), role, projectIds: projectIds.nullable(), joinedAt: z.string() })
  .meta({ id: 'Member' });
/** MemberPageSchema is a page of members. */
export const MemberPageSchema = pageSchema(MemberSchema).meta({ id: 'MemberPage' });
/** UpdateMemberBody changes a member's role and/or project limit (null: every project). */
export const UpdateMemberBody = z
  .object({ role: role.optional(), projectIds: projectIds.nullable().optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.projectIds !== undefined, { message: 'give role or projectIds', path: ['role'] })
  .meta({ id: 'UpdateMemberRequest' });

/** InvitationSchema is a pending invitation. */
export const InvitationSchema = z
  .object({
    id: z.uuid(), teamId: z.uuid(), email: z.string(), role, projectIds: projectIds.nullable(), invitedBy: z.uuid().nullable(),
    createdAt: z.string(), expiresAt: z.string(),
  })
  .meta({ id: 'Invitation' });
/** CreatedInvitationSchema adds the accept link, shown to the inviter this once. */
export const CreatedInvitationSchema = InvitationSchema.extend({ acceptUrl: z.string() }).meta({ id: 'CreatedInvitation' });
/** InvitationPageSchema is a page of invitations. */
export const InvitationPageSchema = pageSchema(InvitationSchema).meta({ id: 'InvitationPage' });
/** CreateInvitationBody invites an email with a role. */
export const CreateInvitationBody = z
  .object({ email: emailSchema, role, projectIds: projectIds.nullable().optional() })
  .strict()
  .meta({ id: 'CreateInvitationRequest' });
/** AcceptInvitationBody accepts with the link's token; name and password create the account when there is none. */
export const AcceptInvitationBody = z
  .object({ token: z.string().min(1).max(200), name: personNameSchema.optional(), password: passwordSchema.optional() })
  .strict()
  .meta({ id: 'AcceptInvitationRequest' });
/** AcceptInvitationResponseSchema says what was joined; csrfToken is set when a new account was logged in. */
export const AcceptInvitationResponseSchema = z
  .object({ team: z.object({ id: z.uuid(), slug: z.string(), name: z.string() }), role, userId: z.uuid(), csrfToken: z.string().nullable() })
  .meta({ id: 'AcceptInvitationResponse' });
