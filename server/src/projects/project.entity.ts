/**
 * The `projects` table: a team's projects. Slugs are immutable; `name` is the display name.
 */
import { EntitySchema } from 'typeorm';

/** ProjectRow is one row of `projects`. The slug never changes after creation. */
export interface ProjectRow {
  /** id is the project's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** slug is the immutable slug (platform.md naming rules). */
  slug: string;
  /** name is the display name. */
  name: string;
  /** createdAt is the creation time (millisecond precision, the list sort key). */
  createdAt: Date;
  /** updatedAt is the last change time. */
  updatedAt: Date;
}

/** ProjectEntity maps ProjectRow to `projects`. */
export const ProjectEntity = new EntitySchema<ProjectRow>({
  name: 'Project',
  tableName: 'projects',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    slug: { type: 'varchar', length: 30 },
    name: { type: 'varchar', length: 100 },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
