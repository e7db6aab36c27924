/**
 * Deployment routes: create (per service or per environment), list, read, event log, cancel, rollback, and the
 * service actions scale, restart, stop and remove, plus the runs of cron services. Variable values never appear in
 * any answer.
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { DeploymentsService } from './service.ts';
import type { DeploymentRow } from './store.ts';

/** DeploymentSchema is the API form of a deployment. */
export const DeploymentSchema = z.object({
  id: z.uuid(),
  kind: z.enum(['service', 'database']).describe('What was deployed: a service, or a managed database on its own (then serviceId is the database)'),
  serviceId: z.uuid().describe('The service deployed; for a database deployment, the database'),
  environmentId: z.uuid(),
  projectId: z.uuid(),
  batchId: z.uuid().nullable(),
  state: z.enum(['queued', 'deploying', 'healthy', 'failed', 'cancelled', 'superseded', 'removed']),
  reason: z.string(),
  trigger: z.enum(['manual', 'api', 'rollback', 'config_change']),
  rollbackOf: z.uuid().nullable(),
  createdBy: z.uuid().nullable(),
  jobId: z.string(),
  namespace: z.string(),
  image: z.string().nullable(),
  artifactChecksum: z.string().nullable(),
  variableItems: z.number().int().describe('How many variable items the deployment wrote (values are never shown)'),
  step: z.string(),
  jobVersion: z.number().int().nullable(),
  nomadDeploymentId: z.string().nullable(),
  compileWarnings: z.array(z.string()),
  nomadWarnings: z.array(z.string()),
  planDiff: z.unknown().describe("Nomad's job diff from the plan"),
  failure: z.object({ cause: z.string(), events: z.array(z.string()), placement: z.record(z.string(), z.number()), allocationId: z.string().nullable() }).nullable(),
  outputTail: z.string().nullable().describe('The last 64 KiB of the failed allocation\'s stdout and stderr'),
  cancelRequested: z.boolean(),
  createdAt: z.iso.datetime(),
  startedAt: z.iso.datetime().nullable(),
  finishedAt: z.iso.datetime().nullable(),
}).meta({ id: 'Deployment' });

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/** toDeployment maps a record to DeploymentSchema. */
export function toDeployment(r: DeploymentRow): z.infer<typeof DeploymentSchema> {
  return {
    id: r.id, kind: r.config['kind'] === 'database' ? 'database' : 'service', serviceId: r.serviceId, environmentId: r.environmentId, projectId: r.projectId, batchId: r.batchId, state: r.state, reason: r.reason,
    trigger: r.trigger, rollbackOf: r.rollbackOf, createdBy: r.createdBy, jobId: r.jobId, namespace: r.namespace, image: r.image,
    artifactChecksum: r.artifactChecksum, variableItems: r.variableKeys.length, step: r.step, jobVersion: r.progress.registered?.jobVersion ?? null,
    nomadDeploymentId: r.progress.nomadDeploymentId ?? null, compileWarnings: r.compileWarnings, nomadWarnings: r.nomadWarnings, planDiff: r.planDiff,
    failure: r.failure, outputTail: r.outputTail, cancelRequested: r.cancelRequested, createdAt: iso(r.createdAt) ?? '', startedAt: iso(r.startedAt), finishedAt: iso(r.finishedAt),
  };
}

const DeployBody = z.object({ reason: z.string().max(500).optional().describe('A note shown with the deployment') }).strict().meta({ id: 'DeployRequest' });
const ScaleBody = z.object({ replicas: z.number().int().min(0).max(100) }).strict().meta({ id: 'ScaleRequest' });
const ServiceParams = z.object({ serviceId: z.string().max(64) });
const EnvParams = z.object({ environmentId: z.string().max(64) });
const DatabaseParams = z.object({ databaseId: z.string().max(64) });
const DepParams = z.object({ deploymentId: z.string().max(64) });
const EventsQuery = z.object({ after: z.coerce.number().int().min(0).default(0), limit: z.coerce.number().int().min(1).max(1000).default(500) });
const DatabaseEventEntrySchema = z.object({
  databaseId: z.string().describe('The database'),
  name: z.string().describe("The database's name"),
  outcome: z.enum(['registered', 'unchanged', 'removed']).describe('registered: volume ensured and job registered; unchanged: nothing registered, its allocation keeps running; removed: job deregistered, volume kept'),
  jobId: z.string().describe("The database's Nomad job"),
  volume: z.string().optional().describe('The data volume the job mounts (registered and unchanged only)'),
  runningDeploymentId: z.string().optional().describe('unchanged only: the deployment whose job still runs, when known'),
}).meta({ id: 'DeploymentEventDatabase' });
const DeploymentEventDataSchema = z.object({
  databases: z.array(DatabaseEventEntrySchema).optional().describe('`databases` events: what the deployment did with each database of its environment'),
}).catchall(z.unknown()).nullable()
  .describe('Structured details of the event, by kind (null for events without any, such as older records): `databases` events carry `databases`; `unchanged` events `databaseId`, `jobId` and `runningDeploymentId`; `variables` events `modifyIndex`');
const DeploymentEventSchema = z.object({ id: z.number().int(), at: z.iso.datetime(), kind: z.string(), message: z.string(), data: DeploymentEventDataSchema }).meta({ id: 'DeploymentEvent' });
const RunSchema = z.object({
  id: z.uuid(), deploymentId: z.uuid().nullable(), nomadJobId: z.string(), status: z.string(), outputTail: z.string().nullable(),
  startedAt: z.iso.datetime(), finishedAt: z.iso.datetime().nullable(),
}).meta({ id: 'CronRun' });

/** deploymentRoutes declares the deployment operations over a DeploymentsService. */
export function deploymentRoutes(svc: DeploymentsService, onQueued: () => void = () => undefined): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'createServiceDeployment', method: 'post', path: '/api/services/:serviceId/deployments', summary: 'Deploy a service (snapshot, compile, queue)',
      tags: ['deployments'], auth: 'user', params: ServiceParams, body: DeployBody, status: 202,
      responses: { 202: { description: 'The queued deployment', schema: DeploymentSchema } },
      handler: async ({ actor, params, body }) => {
        const r = toDeployment(await svc.create(actor!, params.serviceId, body.reason !== undefined ? { reason: body.reason } : {}));
        onQueued();
        return r;
      },
    }),
    defineRoute({
      operationId: 'createEnvironmentDeployment', method: 'post', path: '/api/environments/:environmentId/deployments', summary: 'Deploy every service of an environment (with its databases; an environment of databases only: each database)',
      tags: ['deployments'], auth: 'user', params: EnvParams, body: DeployBody, status: 202,
      responses: { 202: { description: 'The queued deployments (one per service, one batch)', schema: z.object({ items: z.array(DeploymentSchema) }) } },
      handler: async ({ actor, params, body }) => {
        const rows = await svc.createForEnvironment(actor!, params.environmentId, body.reason !== undefined ? { reason: body.reason } : {});
        onQueued();
        return { items: rows.map(toDeployment) };
      },
    }),
    defineRoute({
      operationId: 'createDatabaseDeployment', method: 'post', path: '/api/databases/:databaseId/deployments',
      summary: 'Deploy a managed database on its own (volume created when missing, never deleted; job pinned to its node)',
      tags: ['deployments'], auth: 'user', params: DatabaseParams, body: DeployBody, status: 202,
      responses: { 202: { description: 'The queued deployment (serviceId: the database)', schema: DeploymentSchema } },
      handler: async ({ actor, params, body }) => {
        const r = toDeployment(await svc.createForDatabase(actor!, params.databaseId, body.reason !== undefined ? { reason: body.reason } : {}));
        onQueued();
        return r;
      },
    }),
    defineRoute({
      operationId: 'listDatabaseDeployments', method: 'get', path: '/api/databases/:databaseId/deployments', summary: "List a database's own deployments, newest first",
      tags: ['deployments'], auth: 'user', params: DatabaseParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of deployments', schema: pageSchema(DeploymentSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.listForDatabase(actor!, params.databaseId, query);
        return { items: page.items.map(toDeployment), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'listServiceDeployments', method: 'get', path: '/api/services/:serviceId/deployments', summary: "List a service's deployments, newest first",
      tags: ['deployments'], auth: 'user', params: ServiceParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of deployments', schema: pageSchema(DeploymentSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.serviceId, query);
        return { items: page.items.map(toDeployment), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getDeployment', method: 'get', path: '/api/deployments/:deploymentId', summary: 'Read a deployment (state, reason, plan diff, warnings, failure, output)',
      tags: ['deployments'], auth: 'user', params: DepParams, status: 200,
      responses: { 200: { description: 'The deployment', schema: DeploymentSchema } },
      handler: async ({ actor, params }) => toDeployment(await svc.get(actor!, params.deploymentId)),
    }),
    defineRoute({
      operationId: 'listDeploymentEvents', method: 'get', path: '/api/deployments/:deploymentId/events', summary: "Read a deployment's own event log",
      tags: ['deployments'], auth: 'user', params: DepParams, query: EventsQuery, status: 200,
      responses: { 200: { description: 'Events after `after`, oldest first', schema: z.object({ items: z.array(DeploymentEventSchema) }) } },
      handler: async ({ actor, params, query }) => {
        const items = await svc.events(actor!, params.deploymentId, query.after, query.limit);
        return { items: items.map((e) => ({ id: e.id, at: new Date(e.at).toISOString(), kind: e.kind, message: e.message, data: e.data ?? null })) };
      },
    }),
    defineRoute({
      operationId: 'cancelDeployment', method: 'post', path: '/api/deployments/:deploymentId/cancel', summary: 'Cancel a deployment in flight',
      tags: ['deployments'], auth: 'user', params: DepParams, status: 200,
      responses: { 200: { description: 'The deployment (cancelled, or cancelling)', schema: DeploymentSchema } },
      handler: async ({ actor, params }) => toDeployment(await svc.cancel(actor!, params.deploymentId)),
    }),
    defineRoute({
      operationId: 'rollbackDeployment', method: 'post', path: '/api/deployments/:deploymentId/rollback', summary: 'Roll back to an earlier healthy deployment (its job and variable values)',
      tags: ['deployments'], auth: 'user', params: DepParams, body: DeployBody, status: 202,
      responses: { 202: { description: 'The queued rollback deployment', schema: DeploymentSchema } },
      handler: async ({ actor, params, body }) => {
        const r = toDeployment(await svc.rollback(actor!, params.deploymentId, body.reason));
        onQueued();
        return r;
      },
    }),
    defineRoute({
      operationId: 'scaleService', method: 'post', path: '/api/services/:serviceId/scale', summary: 'Scale the running service',
      tags: ['deployments'], auth: 'user', params: ServiceParams, body: ScaleBody, status: 200,
      responses: { 200: { description: 'The new count', schema: z.object({ serviceId: z.uuid(), replicas: z.number().int() }) } },
      handler: async ({ actor, params, body }) => svc.scale(actor!, params.serviceId, body.replicas),
    }),
    defineRoute({
      operationId: 'restartService', method: 'post', path: '/api/services/:serviceId/restart', summary: "Restart the service's running allocations",
      tags: ['deployments'], auth: 'user', params: ServiceParams, status: 200,
      responses: { 200: { description: 'How many allocations restarted', schema: z.object({ serviceId: z.uuid(), restarted: z.number().int() }) } },
      handler: async ({ actor, params }) => svc.restart(actor!, params.serviceId),
    }),
    defineRoute({
      operationId: 'stopService', method: 'post', path: '/api/services/:serviceId/stop', summary: 'Stop the service (its job is kept; volumes untouched)',
      tags: ['deployments'], auth: 'user', params: ServiceParams, status: 200,
      responses: { 200: { description: 'Stopped', schema: z.object({ serviceId: z.uuid(), desired: z.string() }) } },
      handler: async ({ actor, params }) => svc.stop(actor!, params.serviceId),
    }),
    defineRoute({
      operationId: 'removeServiceDeployment', method: 'delete', path: '/api/services/:serviceId/deployment', summary: "Remove the service's job from the cluster (volumes are kept)",
      tags: ['deployments'], auth: 'user', params: ServiceParams, status: 204,
      responses: { 204: { description: 'Removed' } },
      handler: async ({ actor, params }) => {
        await svc.remove(actor!, params.serviceId);
      },
    }),
    defineRoute({
      operationId: 'listServiceRuns', method: 'get', path: '/api/services/:serviceId/runs', summary: 'List the runs of a cron service, newest first',
      tags: ['deployments'], auth: 'user', params: ServiceParams, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }), status: 200,
      responses: { 200: { description: 'Runs', schema: z.object({ items: z.array(RunSchema) }) } },
      handler: async ({ actor, params, query }) => {
        const rows = await svc.runs(actor!, params.serviceId, query.limit);
        return { items: rows.map((r) => ({ ...r, startedAt: new Date(r.startedAt).toISOString(), finishedAt: iso(r.finishedAt) })) };
      },
    }),
  ];
}
