/** Team entity: the tenant. Its slug is immutable (platform.md); renaming changes the display name only. */
import { EntitySchema } from 'typeorm';

/** TeamRow is a row of `teams`. */
export interface TeamRow {
  /** id is the team's UUID. */
  id: string;
  /** slug is the immutable, globally unique slug. */
  slug: string;
  /** name is the display name. */
  name: string;
  /** createdAt is when the team was made. */
  createdAt: Date;
  /** updatedAt is when it last changed. */
  updatedAt: Date;
}

/** TeamEntity maps `teams`. */
export const TeamEntity = new EntitySchema<TeamRow>({
  name: 'Team',
  tableName: 'teams',
  columns: {
    id: { type: 'uuid', primary: true },
    slug: { type: 'text', unique: true },
    name: { type: 'text' },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
