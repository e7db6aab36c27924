/** Membership entity: a user's role in a team, optionally limited to chosen projects. */
import { EntitySchema } from 'typeorm';
import type { Role } from '../core/actor.ts';

/** MembershipRow is a row of `team_members`. */
export interface MembershipRow {
  /** teamId is the team. */
  teamId: string;
  /** userId is the member. */
  userId: string;
  /** role is the member's role. */
  role: Role;
  /** projectIds limits the member to these projects; null means every project. */
  projectIds: string[] | null;
  /** createdAt is when the user joined. */
  createdAt: Date;
}

/** MembershipEntity maps `team_members`. */
export const MembershipEntity = new EntitySchema<MembershipRow>({
  name: 'Membership',
  tableName: 'team_members',
  columns: {
    teamId: { type: 'uuid', name: 'team_id', primary: true },
    userId: { type: 'uuid', name: 'user_id', primary: true },
    role: { type: 'text' },
    projectIds: { type: 'uuid', name: 'project_ids', array: true, nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
  },
});
