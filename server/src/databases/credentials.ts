/**
 * Database credentials and backup destination keys in the SecretStore. A database's credentials are generated once
 * (`[A-Za-z0-9]`, so they join URLs and config files safely) and never regenerated: the engine's image applies them
 * only when it initialises an empty volume, so changing them would lock the data out. Connection details show
 * passwords (and the URLs holding them) only when revealed; the caller audits the reveal.
 */
import { randomInt } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { Database } from '@drover/scheduler/compiler/model.ts';
import type { DatabaseField } from '@drover/scheduler/compiler/variables.ts';
import { ENGINES } from '@drover/scheduler/compiler/database.ts';
import type { BackupItemSource } from '@drover/scheduler/databases/jobs.ts';
import { withSecrets } from '../secrets/secret-store.ts';
import type { SecretOwner, SecretStore } from '../secrets/secret-store.ts';
import { DomainError } from '../core/errors.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** generate returns `n` characters of `alphabet` from the CSPRNG (unbiased). */
export function generate(n: number, alphabet: string = ALNUM): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/** generatedValue is a fresh value for a credential field: user and database names start with a letter. */
export function generatedValue(field: DatabaseField): string {
  if (field === 'USER') return `u${generate(15, LOWER)}`;
  if (field === 'NAME') return `db${generate(14, LOWER)}`;
  return generate(32);
}

/** databaseOwner is the secret owner of a database's credentials. */
export function databaseOwner(teamId: string, databaseId: string): SecretOwner {
  return { teamId, kind: 'database', id: databaseId };
}

/** destinationOwner is the secret owner of a backup destination's access keys. */
export function destinationOwner(teamId: string, destinationId: string): SecretOwner {
  return { teamId, kind: 'backup_dest', id: destinationId };
}

/** Connection is what a database offers its users; secret values are null unless revealed. */
export interface Connection {
  /** variables are DATABASE_URL, HOST, PORT, USER, PASSWORD, NAME and the engine's customary names. */
  variables: Record<string, string | null>;
  /** secretNames are the variables that hold a secret (PASSWORD and every URL). */
  secretNames: string[];
}

/** DatabaseCredentials keeps credentials and destination keys in the SecretStore. */
export class DatabaseCredentials {
  private readonly dataSource: DataSource;
  private readonly store: SecretStore;
  constructor(dataSource: DataSource, store: SecretStore) {
    this.dataSource = dataSource;
    this.store = store;
  }

  /** ensure generates the fields the engine needs that the store lacks (never replacing one) and returns them all. */
  async ensure(teamId: string, d: Database): Promise<Map<string, string>> {
    const owner = databaseOwner(teamId, d.id);
    return withSecrets(this.dataSource, this.store, async (_tx, secrets) => {
      const have = await secrets.read(owner);
      const missing = new Map<string, string>();
      for (const f of ENGINES[d.engine].fields) if (!have.has(f)) missing.set(f, generatedValue(f));
      if (missing.size > 0) await secrets.write(owner, missing);
      return new Map([...have, ...missing]);
    });
  }

  /** setDestinationKeys stores a destination's access key pair (replacing the previous one). */
  async setDestinationKeys(teamId: string, destinationId: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
    await withSecrets(this.dataSource, this.store, async (_tx, secrets) => {
      await secrets.write(destinationOwner(teamId, destinationId), new Map([['ACCESS_KEY_ID', keys.accessKeyId], ['SECRET_ACCESS_KEY', keys.secretAccessKey]]));
    });
  }

  /** resolver resolves the data items of a team's database and backup jobs from the store. */
  resolver(teamId: string): (source: BackupItemSource) => Promise<string> {
    return async (source) => {
      if (source.kind === 'literal') return source.value;
      let owner: SecretOwner;
      let field: string;
      if (source.kind === 'database') [owner, field] = [databaseOwner(teamId, source.databaseId), source.field];
      else if (source.kind === 'destination') [owner, field] = [destinationOwner(teamId, source.destinationId), source.field];
      else throw new DomainError('database/invalid', `a database job has no ${source.kind} item`);
      const v = (await this.store.read(owner, [field])).get(field);
      if (v === undefined) throw new DomainError('database/invalid', `the ${field} credential is missing`, { errors: [{ path: `credentials.${field}`, message: 'is missing' }] });
      return v;
    };
  }

  /**
   * connection returns the connection variables of a database at `host:port` (the catalog's current address);
   * secret values are null unless `reveal` (audit the reveal).
   */
  async connection(teamId: string, d: Database, host: string, port: number, reveal: boolean): Promise<Connection> {
    const spec = ENGINES[d.engine];
    const creds = await this.store.read(databaseOwner(teamId, d.id));
    const get = (f: DatabaseField): string => {
      const v = creds.get(f);
      if (v === undefined) throw new DomainError('database/invalid', 'the database has not been deployed yet', { errors: [{ path: `credentials.${f}`, message: 'is missing' }] });
      return v;
    };
    const user = d.engine === 'redis' ? 'default' : get('USER');
    const password = get('PASSWORD');
    const name = spec.fields.includes('NAME') ? get('NAME') : null;
    const url = `${spec.scheme}://${user}:${password}@${host}:${port}${name ? `/${name}` : ''}${d.engine === 'mongodb' ? '/?authSource=admin' : ''}`;
    const p = spec.prefix;
    const v: Record<string, string | null> = { DATABASE_URL: url, HOST: host, PORT: String(port), USER: user, PASSWORD: password, [spec.urlName]: url };
    if (name) v.NAME = name;
    if (d.engine === 'postgres') Object.assign(v, { PGHOST: host, PGPORT: String(port), PGUSER: user, PGPASSWORD: password, ...(name ? { PGDATABASE: name } : {}) });
    else Object.assign(v, { [`${p}HOST`]: host, [`${p}PORT`]: String(port), [`${p}USER`]: user, [`${p}PASSWORD`]: password, ...(name ? { [`${p}DATABASE`]: name } : {}) });
    const secretNames = Object.keys(v).filter((k) => k.endsWith('PASSWORD') || k.endsWith('_URL'));
    if (!reveal) for (const k of secretNames) v[k] = null;
    return { variables: v, secretNames };
  }
}
