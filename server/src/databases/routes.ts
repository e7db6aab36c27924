/**
 * Database routes: `POST/GET /api/environments/:environmentId/databases`, `GET/PATCH/DELETE /api/databases/:databaseId`,
 * `POST /api/databases/:databaseId/credentials/reveal` (audited) and `DELETE /api/databases/:databaseId/volume`
 * (owners and admins, the database's name typed in the `Drover-Confirm` header; the only way a volume is deleted).
 */
import { z } from 'zod';
import { ENGINES } from '@drover/scheduler/compiler/database.ts';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { slugSchema } from '../core/slugs.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { DatabaseRow } from './database.entity.ts';
import type { DatabasesService } from './service.ts';
import { volumeView } from './volume.ts';
import { PUBLIC_OFF, publicEndpoint, publicUrl, type DatabasePublicSettings } from './public.ts';
import { PUBLIC_URL_NAMES, routesBySni } from '@drover/scheduler/databases/public.ts';

/** DatabaseVolumeSchema is a database's current volume: the size requested and the size Nomad reports the plugin gave. */
export const DatabaseVolumeSchema = z.object({
  plugin: z.string().describe('Dynamic host volume plugin that created the volume (before it exists: the configured DROVER_VOLUME_PLUGIN)'),
  requestedBytes: z.number().int().describe('Size requested of the plugin (minimum and maximum)'),
  capacityBytes: z.number().int().nullable().describe("Nomad's CapacityBytes for the volume as read at the last deploy: 0 when the plugin enforces no size (mkdir); null until the volume is created"),
  nodeId: z.string().nullable().describe('Node holding the volume; null until it is created'),
}).meta({ id: 'DatabaseVolume' });

/** DatabaseSchema is the API form of a database. */
export const DatabaseSchema = z.object({
  id: z.uuid(),
  projectId: z.uuid(),
  environmentId: z.uuid(),
  name: z.string().describe('Immutable slug, referenced as ${{ name.VAR }}'),
  engine: z.enum(['postgres', 'mysql', 'redis', 'mongodb']).describe('mongodb is experimental: not yet tested against a real server'),
  version: z.string().describe('Major version'),
  sizeBytes: z.number().int().describe('Requested volume size (whether it is enforced depends on the volume plugin: see volume and warnings)'),
  status: z.enum(['live', 'removed', 'volume_destroyed']).describe('removed: the job is stopped, the volume and its data are kept'),
  keptVolumes: z.number().int().describe('Volumes of earlier major versions, kept until destroyed'),
  volume: DatabaseVolumeSchema,
  warnings: z.array(z.string()).describe('Problems to show, e.g. `size not enforced: …` when the volume plugin does not enforce the requested size (Nomad\'s built-in mkdir) or gave less'),
  variables: z.array(z.string()).describe("Connection variables it provides to references (${{ name.VAR }}). DATABASE_PUBLIC_URL (and MYSQL_PUBLIC_URL, REDIS_PUBLIC_URL or MONGO_PUBLIC_URL) only while it is public and the cluster allows public databases. Passwords and the URLs that hold them are secrets: rendered into the task from the secret store, never in the job or an API answer"),
  restore: z.object({
    backupId: z.uuid(), status: z.enum(['restoring', 'succeeded', 'failed']), reason: z.string().nullable(),
  }).nullable().describe('Set on a database created by a restore of a backup into a new database: how that restore went'),
  public: z.object({
    enabled: z.boolean().describe('Its team opened it to the internet (off by default); takes effect at the next deploy'),
    available: z.boolean().describe('The cluster allows public databases (DROVER_DB_PUBLIC_ACCESS); while false a public database stays private'),
    hostname: z.string().nullable(),
    port: z.number().int().nullable().describe("The entry point's public port"),
    routing: z.enum(['sni', 'own_entrypoint']).describe('sni: Traefik terminates TLS and routes by name (Postgres STARTTLS, Redis, MongoDB); own_entrypoint: MySQL, TLS between client and server'),
    url: z.string().nullable().describe('Public connection URL without credentials (the full one, DATABASE_PUBLIC_URL, is revealed with the credentials)'),
  }).describe('Public access through Traefik'),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
}).meta({ id: 'Database' });

/** VARIABLES are the names every database of an engine provides; a public one adds PUBLIC_URL_NAMES (see toDatabase). */
const VARIABLES: Record<DatabaseRow['engine'], string[]> = {
  postgres: ['DATABASE_URL', 'HOST', 'PORT', 'USER', 'PASSWORD', 'NAME', 'POSTGRES_URL', 'PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'],
  mysql: ['DATABASE_URL', 'HOST', 'PORT', 'USER', 'PASSWORD', 'NAME', 'MYSQL_URL', 'MYSQLHOST', 'MYSQLPORT', 'MYSQLUSER', 'MYSQLPASSWORD', 'MYSQLDATABASE'],
  redis: ['DATABASE_URL', 'HOST', 'PORT', 'USER', 'PASSWORD', 'REDIS_URL', 'REDISHOST', 'REDISPORT', 'REDISUSER', 'REDISPASSWORD'],
  mongodb: ['DATABASE_URL', 'HOST', 'PORT', 'USER', 'PASSWORD', 'MONGO_URL', 'MONGOHOST', 'MONGOPORT', 'MONGOUSER', 'MONGOPASSWORD'],
};

/** toDatabase maps a row to DatabaseSchema; `pub` are the cluster's public access settings (default: off). */
export function toDatabase(r: DatabaseRow, pub: DatabasePublicSettings = PUBLIC_OFF, volumePlugin = 'mkdir'): z.infer<typeof DatabaseSchema> {
  const host = r.publicHostname ?? null;
  const port = host ? publicEndpoint(pub, r.engine).port : null;
  return {
    public: {
      enabled: host !== null, available: pub.enabled, hostname: host, port, routing: routesBySni(r.engine) ? 'sni' : 'own_entrypoint',
      url: host && port ? publicUrl(r.engine, host, port) : null,
    },
    id: r.id, projectId: r.projectId, environmentId: r.environmentId, name: r.name, engine: r.engine, version: r.version,
    sizeBytes: Number(r.sizeBytes), status: r.volumeDestroyedAt ? 'volume_destroyed' : r.removedAt ? 'removed' : 'live',
    keptVolumes: r.volumeDestroyedAt ? 0 : r.previousVolumeIds.length, variables: host && pub.enabled ? [...VARIABLES[r.engine], ...PUBLIC_URL_NAMES[r.engine]] : VARIABLES[r.engine], ...volumeView(r, volumePlugin),
    restore: r.restoreStatus && r.restoredFromBackupId ? { backupId: r.restoredFromBackupId, status: r.restoreStatus, reason: r.restoreReason ?? null } : null,
    createdAt: r.createdAt.toISOString(), updatedAt: r.updatedAt.toISOString(),
  };
}

/** CreateDatabaseBody is the body of POST /api/environments/:environmentId/databases. */
export const CreateDatabaseBody = z.object({
  name: slugSchema,
  engine: z.enum(['postgres', 'mysql', 'redis', 'mongodb']),
  version: z.string().max(8).optional().describe(`A supported major version (postgres ${ENGINES.postgres.versions.join('/')}, mysql ${ENGINES.mysql.versions.join('/')}, redis ${ENGINES.redis.versions.join('/')}, mongodb ${ENGINES.mongodb.versions.join('/')}); default the newest`),
  sizeGiB: z.number().int().min(1).max(4096).optional().describe('Volume size in GiB (default 1)'),
}).strict().meta({ id: 'CreateDatabase' });

/** PublicAccessBody opens or closes a database's public access. */
export const PublicAccessBody = z.object({
  enabled: z.boolean(),
  hostname: z.string().min(1).max(253).optional().describe('One label under the apps domain (default `<name>-<id prefix>.<apps domain>`); unique across the cluster'),
}).strict().meta({ id: 'PublicAccess' });

/**
 * UpdateDatabaseBody changes either the version (another major version is a dump and restore into a new volume) or
 * the public access; both take effect at the next deploy.
 */
export const UpdateDatabaseBody = z.object({
  version: z.string().min(1).max(8).optional(),
  public: PublicAccessBody.optional(),
}).strict().refine((b) => (b.version === undefined) !== (b.public === undefined), { message: 'give either version or public' }).meta({ id: 'UpdateDatabase' });

/** DatabaseCredentialsSchema is a reveal's answer. */
export const DatabaseCredentialsSchema = z.object({
  user: z.string(),
  password: z.string(),
  name: z.string().nullable(),
  catalogService: z.string().describe('The service name HOST and PORT are read from at run time'),
  publicUrl: z.string().nullable().describe('DATABASE_PUBLIC_URL: the public connection URL with the credentials (null while private)'),
}).meta({ id: 'DatabaseCredentials' });

const EnvParams = z.object({ environmentId: z.string().max(64) });
const DbParams = z.object({ databaseId: z.string().max(64) });

/** databaseRoutes declares the database operations. */
export function databaseRoutes(svc: DatabasesService): AnyRoute[] {
  const view = (r: DatabaseRow): z.infer<typeof DatabaseSchema> => toDatabase(r, svc.publicSettings, svc.volumePlugin);
  return [
    defineRoute({
      operationId: 'createDatabase', method: 'post', path: '/api/environments/:environmentId/databases', summary: 'Create a managed database (credentials generated)',
      tags: ['databases'], auth: 'user', params: EnvParams, body: CreateDatabaseBody, status: 201, errors: [409, 422],
      responses: { 201: { description: 'The database', schema: DatabaseSchema } },
      handler: async ({ actor, params, body }) => view(await svc.create(actor!, params.environmentId, body)),
    }),
    defineRoute({
      operationId: 'listDatabases', method: 'get', path: '/api/environments/:environmentId/databases', summary: "List an environment's databases (removed ones too)",
      tags: ['databases'], auth: 'user', params: EnvParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of databases', schema: pageSchema(DatabaseSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.environmentId, query);
        return { items: page.items.map(view), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getDatabase', method: 'get', path: '/api/databases/:databaseId', summary: 'Get a database',
      tags: ['databases'], auth: 'user', params: DbParams, status: 200,
      responses: { 200: { description: 'The database', schema: DatabaseSchema } },
      handler: async ({ actor, params }) => view(await svc.get(actor!, params.databaseId)),
    }),
    defineRoute({
      operationId: 'updateDatabase', method: 'patch', path: '/api/databases/:databaseId',
      summary: 'Change the version (another major: dump and restore into a new volume, the old one kept) or the public access (audited); applied at the next deploy',
      tags: ['databases'], auth: 'user', params: DbParams, body: UpdateDatabaseBody, status: 200, errors: [409, 422],
      responses: { 200: { description: 'The database', schema: DatabaseSchema } },
      handler: async ({ actor, params, body }) => {
        if (body.public) return view(await svc.setPublic(actor!, params.databaseId, body.public));
        return view((await svc.changeVersion(actor!, params.databaseId, body.version ?? '')).row);
      },
    }),
    defineRoute({
      operationId: 'deleteDatabase', method: 'delete', path: '/api/databases/:databaseId', summary: 'Remove a database; its volume and data are kept',
      tags: ['databases'], auth: 'user', params: DbParams, status: 204,
      responses: { 204: { description: 'Removed (volume kept)' } },
      handler: async ({ actor, params }) => {
        await svc.remove(actor!, params.databaseId);
      },
    }),
    defineRoute({
      operationId: 'revealDatabaseCredentials', method: 'post', path: '/api/databases/:databaseId/credentials/reveal',
      summary: 'Reveal the generated credentials (needs the reveal permission; audited)',
      tags: ['databases'], auth: 'user', params: DbParams, status: 200,
      responses: { 200: { description: 'The credentials', schema: DatabaseCredentialsSchema } },
      handler: async ({ actor, params, ctx }) => {
        const row = await svc.get(actor!, params.databaseId);
        const v = await svc.revealCredentials(actor!, params.databaseId);
        ctx.set('Cache-Control', 'no-store');
        const creds = { user: row.engine === 'redis' ? 'default' : (v.get('USER') ?? ''), password: v.get('PASSWORD') ?? '', name: v.get('NAME') ?? null };
        const host = row.publicHostname ?? null;
        const publicUrlWith = host ? publicUrl(row.engine, host, publicEndpoint(svc.publicSettings, row.engine).port, creds) : null;
        return { ...creds, catalogService: await svc.catalogName(row), publicUrl: publicUrlWith };
      },
    }),
    defineRoute({
      operationId: 'destroyDatabaseVolume', method: 'delete', path: '/api/databases/:databaseId/volume',
      summary: "Destroy a database's volumes and data (owners and admins; the database's name typed in the Drover-Confirm header; audited)",
      tags: ['databases'], auth: 'user', params: DbParams, status: 204, errors: [409, 422],
      responses: { 204: { description: 'Destroyed' } },
      handler: async ({ actor, params, ctx }) => {
        await svc.destroyVolume(actor!, params.databaseId, ctx.get('drover-confirm'));
      },
    }),
  ];
}
