/**
 * VariablesService: variables per service and shared per environment. Rows hold keys and metadata only; values
 * live in the SecretStore and leave it only through `reveal`, which needs the `reveal` permission and is audited.
 * A batch is validated as a whole first (every bad key or value named by its path) and then written in one
 * transaction together with the secret-store write, so a failing batch writes nothing.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { In } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import { DomainError, invalid, type FieldError } from '../core/errors.ts';
import type { Page, PageParams } from '../core/pagination.ts';
import { EnvironmentEntity } from '../environments/environment.entity.ts';
import { keysetPage, loadOwned, now, type ScopeDeps } from '../projects/scope.ts';
import { environmentOwner, serviceOwners } from '../secrets/owners.ts';
import { withSecrets, type SecretOwner, type SecretStore } from '../secrets/secret-store.ts';
import { ServiceEntity } from '../service-configs/service.entity.ts';
import { VariableEntity, type VariableOwnerKind, type VariableRow } from './variable.entity.ts';
import { keyProblem, MAX_BATCH, referencesOf, valueProblem } from './validation.ts';

/** VariablesServiceDeps are what VariablesService needs. */
export interface VariablesServiceDeps extends ScopeDeps {
  /** dataSource runs queries and transactions. */
  dataSource: DataSource;
  /** secrets holds the values. */
  secrets: SecretStore;
}

/** VariableScope names the owner of a set of variables: a service, or an environment (shared variables). */
export interface VariableScope {
  /** kind is `service` or `environment`. */
  kind: VariableOwnerKind;
  /** id is the service's or environment's ID. */
  id: string;
}

/** BatchResult says which keys a batch set and which it deleted. */
export interface BatchResult {
  /** set are the rows of the keys that were set. */
  set: VariableRow[];
  /** deleted are the keys that were deleted (absent keys included). */
  deleted: string[];
}

interface Owner {
  teamId: string;
  projectId: string;
  environmentId: string;
  serviceId: string | null;
  ownerKind: VariableOwnerKind;
  ownerId: string;
}

/** VariablesService implements the variable operations; every method checks access first. */
export class VariablesService {
  private readonly d: VariablesServiceDeps;

  constructor(deps: VariablesServiceDeps) {
    this.d = deps;
  }

  /** list pages through the keys and metadata of a scope's variables (read permission); never values. */
  async list(actor: Actor, scope: VariableScope, page: PageParams): Promise<Page<VariableRow>> {
    const o = await this.owner(actor, scope, 'read');
    const qb = this.d.dataSource.getRepository(VariableEntity).createQueryBuilder('v')
      .where('v.owner_kind = :k AND v.owner_id = :id AND v.team_id = :t', { k: o.ownerKind, id: o.ownerId, t: o.teamId });
    return keysetPage(qb, 'v', page);
  }

  /**
   * listReferences pages through every variable of an environment (its services' and its shared ones, read
   * permission on the environment) that references something: key, owner and references, never values. The canvas
   * draws its edges from one such listing instead of one variable list per service.
   */
  async listReferences(actor: Actor, environmentId: string, page: PageParams): Promise<Page<VariableRow>> {
    const o = await this.owner(actor, { kind: 'environment', id: environmentId }, 'read');
    const qb = this.d.dataSource.getRepository(VariableEntity).createQueryBuilder('v')
      .where("v.environment_id = :e AND v.team_id = :t AND v.refs <> '[]'::jsonb", { e: o.environmentId, t: o.teamId });
    return keysetPage(qb, 'v', page);
  }

  /**
   * upsert applies a batch `{ KEY: value | null }` (null deletes) to a scope (write permission). Every key and value
   * is validated first; errors name `body.variables.<KEY>` and never repeat a value.
   */
  async upsert(actor: Actor, scope: VariableScope, batch: Readonly<Record<string, string | null>>): Promise<BatchResult> {
    const o = await this.owner(actor, scope, 'write');
    const entries = Object.entries(batch);
    const errors: FieldError[] = [];
    if (entries.length === 0) errors.push({ path: 'body.variables', message: 'must name at least one variable' });
    if (entries.length > MAX_BATCH) errors.push({ path: 'body.variables', message: `must change at most ${MAX_BATCH} variables at once` });
    for (const [k, v] of entries) {
      const kp = keyProblem(k);
      if (kp) errors.push({ path: `body.variables.${k}`, message: `key ${kp}` });
      const vp = v === null ? null : valueProblem(v);
      if (vp) errors.push({ path: `body.variables.${k}`, message: `value ${vp}` });
    }
    if (errors.length > 0) throw invalid(errors);
    const at = now(this.d.clock);
    const setEntries = entries.filter((e): e is [string, string] => e[1] !== null);
    const setKeys = setEntries.map(([k]) => k);
    const deleted = entries.filter(([, v]) => v === null).map(([k]) => k);
    const set = await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      const repo = tx.getRepository(VariableEntity);
      if (deleted.length > 0) await repo.delete({ ownerKind: o.ownerKind, ownerId: o.ownerId, teamId: o.teamId, key: In(deleted) });
      if (setKeys.length > 0) {
        // One statement for the whole batch: the owner's columns once, then (id, key, references) per variable. The
        // references are parsed from the value here, so lists never need the secret value.
        const params: unknown[] = [o.teamId, o.projectId, o.environmentId, o.serviceId, o.ownerKind, o.ownerId, at];
        const rowsSql = setEntries.map(([key, value]) => {
          params.push(randomUUID(), key, JSON.stringify(referencesOf(value)));
          const n = params.length;
          return `($${n - 2}::uuid, $1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6::uuid, $${n - 1}, $${n}::jsonb, $7::timestamptz, $7::timestamptz)`;
        });
        await tx.query(
          `INSERT INTO variables (id, team_id, project_id, environment_id, service_id, owner_kind, owner_id, key, refs, created_at, updated_at)
           VALUES ${rowsSql.join(', ')}
           ON CONFLICT (owner_kind, owner_id, key) DO UPDATE SET refs = EXCLUDED.refs, updated_at = EXCLUDED.updated_at`,
          params,
        );
      }
      const rows = setKeys.length > 0 ? await repo.findBy({ ownerKind: o.ownerKind, ownerId: o.ownerId, teamId: o.teamId, key: In(setKeys) }) : [];
      await this.d.audit.record({
        actor, teamId: o.teamId, action: 'variable.update', targetType: o.ownerKind, targetId: o.ownerId, details: { set: setKeys, deleted },
      }, tx);
      await secrets.write(this.secretOwner(o), new Map(entries));
      return rows;
    });
    return { set: set.sort((a, b) => a.key.localeCompare(b.key)), deleted };
  }

  /** delete removes one variable and its value (write permission); an absent key is `variable/not_found`. */
  async delete(actor: Actor, scope: VariableScope, key: string): Promise<void> {
    const o = await this.owner(actor, scope, 'write');
    await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      const r = await tx.getRepository(VariableEntity).delete({ ownerKind: o.ownerKind, ownerId: o.ownerId, teamId: o.teamId, key });
      if (!r.affected) throw new DomainError('variable/not_found');
      await this.d.audit.record({ actor, teamId: o.teamId, action: 'variable.delete', targetType: o.ownerKind, targetId: o.ownerId, details: { key } }, tx);
      await secrets.write(this.secretOwner(o), new Map([[key, null]]));
    });
  }

  /**
   * reveal returns one value (reveal permission: owners, admins and members with a session or an admin-scoped
   * token). The reveal is audited in the same transaction that reads the value, so no value leaves unaudited.
   */
  async reveal(actor: Actor, scope: VariableScope, key: string): Promise<{ row: VariableRow; value: string }> {
    const o = await this.owner(actor, scope, 'reveal');
    return this.d.dataSource.transaction(async (tx) => {
      const row = await tx.getRepository(VariableEntity).findOneBy({ ownerKind: o.ownerKind, ownerId: o.ownerId, teamId: o.teamId, key });
      if (!row) throw new DomainError('variable/not_found');
      await this.d.audit.record({ actor, teamId: o.teamId, action: 'variable.reveal', targetType: o.ownerKind, targetId: o.ownerId, details: { key } }, tx);
      const values = await this.d.secrets.read(this.secretOwner(o), [key], tx);
      const value = values.get(key);
      if (value === undefined) throw new DomainError('secret_store/unavailable', 'the value of a listed variable is missing from the secret store');
      return { row, value };
    });
  }

  private secretOwner(o: Owner): SecretOwner {
    return o.ownerKind === 'service' ? serviceOwners(o.teamId, o.ownerId)[0] : environmentOwner(o.teamId, o.ownerId);
  }

  private async owner(actor: Actor, scope: VariableScope, permission: 'read' | 'write' | 'reveal'): Promise<Owner> {
    if (scope.kind === 'service') {
      const s = await loadOwned(this.d.access, actor, scope.id, permission, 'service/not_found',
        (id) => this.d.dataSource.getRepository(ServiceEntity).findOneBy({ id }));
      return { teamId: s.teamId, projectId: s.projectId, environmentId: s.environmentId, serviceId: s.id, ownerKind: 'service', ownerId: s.id };
    }
    const e = await loadOwned(this.d.access, actor, scope.id, permission, 'environment/not_found',
      (id) => this.d.dataSource.getRepository(EnvironmentEntity).findOneBy({ id }));
    return { teamId: e.teamId, projectId: e.projectId, environmentId: e.id, serviceId: null, ownerKind: 'environment', ownerId: e.id };
  }
}
