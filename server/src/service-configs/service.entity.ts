/**
 * The `services` table: a service's configuration (what to run and how), validated by `validation.ts` before it is
 * stored. Registry credentials are never stored here: only the flag that the SecretStore holds them.
 */
import { EntitySchema } from 'typeorm';
import type { ServiceConfig } from './validation.ts';

/** ServiceRow is one row of `services`. The slug never changes after creation. */
export interface ServiceRow {
  /** id is the service's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** environmentId is the owning environment. */
  environmentId: string;
  /** slug is the immutable slug. */
  slug: string;
  /** name is the display name. */
  name: string;
  /** config is the validated configuration (no secrets). */
  config: ServiceConfig;
  /** registryCredentials says whether the SecretStore holds registry credentials for the image. */
  registryCredentials: boolean;
  /** createdAt is the creation time (the list sort key). */
  createdAt: Date;
  /** updatedAt is the last change time. */
  updatedAt: Date;
}

/** ServiceEntity maps ServiceRow to `services`. */
export const ServiceEntity = new EntitySchema<ServiceRow>({
  name: 'Service',
  tableName: 'services',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    projectId: { type: 'uuid', name: 'project_id' },
    environmentId: { type: 'uuid', name: 'environment_id' },
    slug: { type: 'varchar', length: 30 },
    name: { type: 'varchar', length: 100 },
    config: { type: 'jsonb' },
    registryCredentials: { type: 'boolean', name: 'registry_credentials', default: false },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
