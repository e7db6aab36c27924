/**
 * Variable routes, for a service and (shared) for an environment: `GET` lists keys, metadata and the references of
 * each value (never values),
 * `PUT` upserts a batch `{ variables: { KEY: value | null } }`, `DELETE …/:variableKey` removes one, and
 * `POST …/:variableKey/reveal` returns one value to a role that may reveal it (audited).
 * `GET /api/environments/:environmentId/references` lists every variable of the environment that references
 * something (the canvas's edges, in one listing).
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { VariableRow } from './variable.entity.ts';
import type { VariableScope, VariablesService } from './variables.service.ts';
import { MAX_VALUE_BYTES } from './validation.ts';

/** VariableReferenceSchema is one `${{ target.NAME }}` reference of a value. */
export const VariableReferenceSchema = z
  .object({
    target: z.string().describe('The referenced service slug, database name or `shared`'),
    name: z.string().describe('The referenced variable'),
  })
  .meta({ id: 'VariableReference' });

/** VariableSchema is the API form of a variable: its key, metadata and the references of its value, never the value. */
export const VariableSchema = z
  .object({
    key: z.string(),
    references: z.array(VariableReferenceSchema).describe('The distinct `${{ target.NAME }}` references of the value, in order'),
    scope: z.enum(['service', 'shared']),
    serviceId: z.uuid().nullable(),
    environmentId: z.uuid(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime().describe('When the value was last set'),
  })
  .meta({ id: 'Variable' });

/** RevealedVariableSchema is the answer of a reveal: the key and its value. */
export const RevealedVariableSchema = z.object({ key: z.string(), value: z.string() }).meta({ id: 'RevealedVariable' });

/** VariableBatchBody sets (string) or deletes (null) variables by key. */
export const VariableBatchBody = z
  .object({
    variables: z.record(z.string().max(256), z.string().max(MAX_VALUE_BYTES * 4).nullable())
      .describe('KEY → value (any text; `${{ svc.VAR }}` / `${{ shared.VAR }}` references) or null to delete'),
  })
  .strict()
  .meta({ id: 'VariableBatch' });

/** VariableBatchResultSchema lists the variables a batch set and the keys it deleted. */
export const VariableBatchResultSchema = z.object({ set: z.array(VariableSchema), deleted: z.array(z.string()) }).meta({ id: 'VariableBatchResult' });

/** toVariable maps a row to VariableSchema. */
export function toVariable(v: VariableRow): z.infer<typeof VariableSchema> {
  return {
    key: v.key, references: v.references.map((r) => ({ target: r.target, name: r.name })), scope: v.ownerKind === 'service' ? 'service' : 'shared', serviceId: v.serviceId, environmentId: v.environmentId,
    createdAt: v.createdAt.toISOString(), updatedAt: v.updatedAt.toISOString(),
  };
}

/** variableRoutes declares the variable operations for services and environments over a VariablesService. */
export function variableRoutes(svc: VariablesService): AnyRoute[] {
  const scopes = [
    { kind: 'service', base: '/api/services/:serviceId', param: 'serviceId', tag: 'Service', owner: 'a service' },
    { kind: 'environment', base: '/api/environments/:environmentId', param: 'environmentId', tag: 'Shared', owner: 'an environment (shared)' },
  ] as const;
  const EnvParams = z.object({ environmentId: z.string().max(64) });
  const references = defineRoute({
    operationId: 'listEnvironmentReferences', method: 'get', path: '/api/environments/:environmentId/references',
    summary: 'List the variables of an environment (its services\' and shared ones) that reference something (keys and references only)',
    tags: ['variables'], auth: 'user', params: EnvParams, query: PageQuery, status: 200,
    responses: { 200: { description: 'A page of variables with at least one reference (no values)', schema: pageSchema(VariableSchema) } },
    handler: async ({ actor, params, query }) => {
      const page = await svc.listReferences(actor!, params.environmentId, query);
      return { items: page.items.map(toVariable), nextCursor: page.nextCursor };
    },
  });
  return [references, ...scopes.flatMap(({ kind, base, param, tag, owner }) => {
    const Params = z.object({ [param]: z.string().max(64) }) as z.ZodObject<Record<string, z.ZodString>>;
    const KeyParams = z.object({ [param]: z.string().max(64), variableKey: z.string().max(256) }) as z.ZodObject<Record<string, z.ZodString>>;
    const scopeOf = (p: Record<string, string>): VariableScope => ({ kind, id: p[param] as string });
    return [
      defineRoute({
        operationId: `list${tag}Variables`, method: 'get', path: `${base}/variables`, summary: `List the variables of ${owner} (keys only)`,
        tags: ['variables'], auth: 'user', params: Params, query: PageQuery, status: 200,
        responses: { 200: { description: 'A page of variables (no values)', schema: pageSchema(VariableSchema) } },
        handler: async ({ actor, params, query }) => {
          const page = await svc.list(actor!, scopeOf(params), query);
          return { items: page.items.map(toVariable), nextCursor: page.nextCursor };
        },
      }),
      defineRoute({
        operationId: `put${tag}Variables`, method: 'put', path: `${base}/variables`, summary: `Set or delete variables of ${owner}`,
        tags: ['variables'], auth: 'user', params: Params, body: VariableBatchBody, status: 200,
        responses: { 200: { description: 'What the batch changed (no values)', schema: VariableBatchResultSchema } },
        handler: async ({ actor, params, body }) => {
          const r = await svc.upsert(actor!, scopeOf(params), body.variables);
          return { set: r.set.map(toVariable), deleted: r.deleted };
        },
      }),
      defineRoute({
        operationId: `delete${tag}Variable`, method: 'delete', path: `${base}/variables/:variableKey`, summary: `Delete a variable of ${owner}`,
        tags: ['variables'], auth: 'user', params: KeyParams, status: 204,
        responses: { 204: { description: 'Deleted' } },
        handler: async ({ actor, params }) => {
          await svc.delete(actor!, scopeOf(params), params.variableKey as string);
        },
      }),
      defineRoute({
        operationId: `reveal${tag}Variable`, method: 'post', path: `${base}/variables/:variableKey/reveal`,
        summary: `Reveal the value of a variable of ${owner} (needs the reveal permission; audited)`,
        tags: ['variables'], auth: 'user', params: KeyParams, status: 200,
        responses: { 200: { description: 'The value', schema: RevealedVariableSchema } },
        handler: async ({ actor, params, ctx }) => {
          const r = await svc.reveal(actor!, scopeOf(params), params.variableKey as string);
          ctx.set('Cache-Control', 'no-store');
          return { key: r.row.key, value: r.value };
        },
      }),
    ];
  })];
}
