/**
 * The `variables` table: variable keys and metadata, per service or shared per environment. Values are never here:
 * they live only in the SecretStore.
 */
import { EntitySchema } from 'typeorm';

/** VariableOwnerKind says whether a variable belongs to a service or is shared by an environment. */
export type VariableOwnerKind = 'service' | 'environment';

/** VariableReference is one `${{ target.NAME }}` reference of a value: a service slug, database or `shared`, and a name. */
export interface VariableReference {
  /** target is the referenced service slug, database name or `shared`. */
  target: string;
  /** name is the referenced variable. */
  name: string;
}

/** VariableRow is one row of `variables` (no value, ever). */
export interface VariableRow {
  /** id is the variable's UUID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
  /** environmentId is the environment (the owner of shared variables, the service's otherwise). */
  environmentId: string;
  /** serviceId is the owning service, or null for a shared variable. */
  serviceId: string | null;
  /** ownerKind says what ownerId is. */
  ownerKind: VariableOwnerKind;
  /** ownerId is the service's or the environment's ID. */
  ownerId: string;
  /** key is the variable name. */
  key: string;
  /** references are the distinct references of the value, in order, parsed when it was written (never the value). */
  references: VariableReference[];
  /** createdAt is the creation time. */
  createdAt: Date;
  /** updatedAt is the last time the value was set. */
  updatedAt: Date;
}

/** VariableEntity maps VariableRow to `variables`. */
export const VariableEntity = new EntitySchema<VariableRow>({
  name: 'Variable',
  tableName: 'variables',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    projectId: { type: 'uuid', name: 'project_id' },
    environmentId: { type: 'uuid', name: 'environment_id' },
    serviceId: { type: 'uuid', name: 'service_id', nullable: true },
    ownerKind: { type: 'varchar', length: 16, name: 'owner_kind' },
    ownerId: { type: 'uuid', name: 'owner_id' },
    key: { type: 'varchar', length: 128 },
    references: { type: 'jsonb', name: 'refs', default: () => "'[]'::jsonb" },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
