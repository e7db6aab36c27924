/**
 * The `environments` table: a project's environments (a `production` one is created with each project).
 */
import { EntitySchema } from 'typeorm';

/** EnvironmentRow is one row of `environments`. The slug never changes after creation. */
export interface EnvironmentRow {
  /** id is the environment's UUID. */
  id: string;
  /** teamId is the owning team (denormalised so every query is scoped by team). */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** slug is the immutable slug. */
  slug: string;
  /** name is the display name. */
  name: string;
  /** createdAt is the creation time (the list sort key). */
  createdAt: Date;
  /** updatedAt is the last change time. */
  updatedAt: Date;
}

/** EnvironmentEntity maps EnvironmentRow to `environments`. */
export const EnvironmentEntity = new EntitySchema<EnvironmentRow>({
  name: 'Environment',
  tableName: 'environments',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    projectId: { type: 'uuid', name: 'project_id' },
    slug: { type: 'varchar', length: 30 },
    name: { type: 'varchar', length: 100 },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
