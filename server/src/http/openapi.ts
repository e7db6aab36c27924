/**
 * The OpenAPI 3.1 document, generated from the route declarations (served at `GET /api/openapi.json`). Schemas
 * that carry a zod `meta({ id })` become named components; everything else is inlined.
 */
import { z } from 'zod';
import type { AnyRoute } from './route.ts';
import { ProblemSchema } from './problem.ts';

/** OpenApiDocument is the generated document (a plain JSON object). */
export type OpenApiDocument = Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> };

const GENERIC_ERRORS: Record<number, string> = {
  400: 'The request is invalid; `errors` names each bad field',
  401: 'Authentication is required',
  403: 'The caller may not do this (role, token scope or CSRF)',
  404: 'The resource does not exist or is not visible to the caller',
  429: 'Too many requests',
  500: 'Internal error (no details are exposed)',
  503: 'A dependency (Postgres, Redis, Nomad, Vault) is unavailable',
};

/** openApiPath turns Koa's `/a/:id` into OpenAPI's `/a/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>): Record<string, unknown> {
  const js = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete js.$schema;
  const defs = js.$defs as Record<string, unknown> | undefined;
  delete js.$defs;
  if (defs) for (const [k, v] of Object.entries(defs)) components[k] = rewriteRefs(v);
  const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
  if (id) {
    // zod emits a schema that carries an id as a $ref to its own $defs entry (already copied above): keep that entry.
    if (!defs || !(id in defs)) components[id] = rewriteRefs(js);
    return { $ref: `#/components/schemas/${id}` };
  }
  return rewriteRefs(js) as Record<string, unknown>;
}

function rewriteRefs(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rewriteRefs);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      out[k] = k === '$ref' && typeof x === 'string' ? x.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(x);
    }
    return out;
  }
  return v;
}

function parameters(where: 'path' | 'query', schema: z.ZodType | undefined, components: Record<string, unknown>) {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input', components) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
  }));
}

/** buildOpenApi generates the OpenAPI 3.1 document for a set of routes. operationIds must be unique. */
export function buildOpenApi(routes: readonly AnyRoute[], info: { title: string; version: string; description?: string }): OpenApiDocument {
  const components: Record<string, unknown> = {};
  const paths: OpenApiDocument['paths'] = {};
  const seen = new Set<string>();
  const problemRef = jsonSchema(ProblemSchema, 'output', components);
  for (const r of routes) {
    if (seen.has(r.operationId)) throw new Error(`duplicate operationId ${r.operationId}`);
    seen.add(r.operationId);
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      responses[status] = {
        description: spec.description,
        ...(spec.schema
          ? { content: { [spec.contentType ?? 'application/json']: { schema: jsonSchema(spec.schema, 'output', components) } } }
          : {}),
      };
    }
    const errorStatuses = new Set<number>([400, 500, 503, ...(r.auth === 'user' ? [401, 403, 404] : []), ...(r.errors ?? [])]);
    for (const s of [...errorStatuses].sort()) {
      responses[String(s)] = {
        description: GENERIC_ERRORS[s] ?? 'Error',
        content: { 'application/problem+json': { schema: problemRef } },
      };
    }
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: r.tags,
      parameters: [...parameters('path', r.params, components), ...parameters('query', r.query, components)],
      responses,
      security: r.auth === 'user' ? [{ session: [] }, { token: [] }] : [],
    };
    if (r.body) {
      op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input', components) } } };
    }
    const p = openApiPath(r.path);
    paths[p] ??= {};
    paths[p][r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'drover_session', description: 'Browser session; mutations also need the X-CSRF-Token header' },
        token: { type: 'http', scheme: 'bearer', description: 'API token (scopes read, deploy, admin)' },
      },
    },
  };
}
