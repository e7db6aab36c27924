/** Invitation entity: an invitation to join a team with a role, stored by the SHA-256 of its token. */
import { EntitySchema } from 'typeorm';
import type { Role } from '../core/actor.ts';

/** InvitationRow is a row of `invitations`. */
export interface InvitationRow {
  /** id is the invitation's UUID (the invitationId path parameter). */
  id: string;
  /** teamId is the team to join. */
  teamId: string;
  /** email is the invitee's normalized email. */
  email: string;
  /** role is the role the invitee gets. */
  role: Role;
  /** projectIds limits the invitee to these projects; null means every project. */
  projectIds: string[] | null;
  /** tokenHash is the hex SHA-256 of the invitation token (unique). */
  tokenHash: string;
  /** invitedBy is the inviting user. */
  invitedBy: string | null;
  /** createdAt is when it was sent. */
  createdAt: Date;
  /** expiresAt is when it stops working. */
  expiresAt: Date;
  /** acceptedAt is set when it was accepted. */
  acceptedAt: Date | null;
}

/** InvitationEntity maps `invitations`. */
export const InvitationEntity = new EntitySchema<InvitationRow>({
  name: 'Invitation',
  tableName: 'invitations',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    email: { type: 'text' },
    role: { type: 'text' },
    projectIds: { type: 'uuid', name: 'project_ids', array: true, nullable: true },
    tokenHash: { type: 'text', name: 'token_hash', unique: true },
    invitedBy: { type: 'uuid', name: 'invited_by', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    expiresAt: { type: 'timestamptz', name: 'expires_at' },
    acceptedAt: { type: 'timestamptz', name: 'accepted_at', nullable: true },
  },
});
