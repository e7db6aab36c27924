/**
 * Environment routes: `POST/GET /api/projects/:projectId/environments`, `GET/PATCH/DELETE
 * /api/environments/:environmentId`, `POST /api/environments/:environmentId/duplicate`.
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { displayNameSchema, slugSchema } from '../core/slugs.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import { immutableSlug } from '../projects/projects.routes.ts';
import type { EnvironmentRow } from './environment.entity.ts';
import type { EnvironmentsService } from './environments.service.ts';

/** EnvironmentSchema is the API form of an environment. */
export const EnvironmentSchema = z
  .object({
    id: z.uuid(),
    projectId: z.uuid(),
    slug: z.string().describe('Immutable slug'),
    name: z.string().describe('Display name'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Environment' });

/** toEnvironment maps a row to EnvironmentSchema. */
export function toEnvironment(e: EnvironmentRow): z.infer<typeof EnvironmentSchema> {
  return { id: e.id, projectId: e.projectId, slug: e.slug, name: e.name, createdAt: e.createdAt.toISOString(), updatedAt: e.updatedAt.toISOString() };
}

/** CreateEnvironmentBody is the body of environment create and duplicate: a new slug and display name. */
export const CreateEnvironmentBody = z.object({ slug: slugSchema, name: displayNameSchema.optional() }).strict().meta({ id: 'CreateEnvironment' });
/** UpdateEnvironmentBody is the body of PATCH /api/environments/:environmentId. */
export const UpdateEnvironmentBody = z.object({ name: displayNameSchema, slug: immutableSlug }).strict().meta({ id: 'UpdateEnvironment' });

const ProjectParams = z.object({ projectId: z.string().max(64) });
const EnvParams = z.object({ environmentId: z.string().max(64) });

/** environmentRoutes declares the environment operations over an EnvironmentsService. */
export function environmentRoutes(svc: EnvironmentsService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'createEnvironment', method: 'post', path: '/api/projects/:projectId/environments', summary: 'Create an environment',
      tags: ['environments'], auth: 'user', params: ProjectParams, body: CreateEnvironmentBody, status: 201, errors: [409],
      responses: { 201: { description: 'The environment', schema: EnvironmentSchema } },
      handler: async ({ actor, params, body }) => toEnvironment(await svc.create(actor!, params.projectId, body)),
    }),
    defineRoute({
      operationId: 'listEnvironments', method: 'get', path: '/api/projects/:projectId/environments', summary: "List a project's environments",
      tags: ['environments'], auth: 'user', params: ProjectParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of environments', schema: pageSchema(EnvironmentSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.projectId, query);
        return { items: page.items.map(toEnvironment), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getEnvironment', method: 'get', path: '/api/environments/:environmentId', summary: 'Get an environment',
      tags: ['environments'], auth: 'user', params: EnvParams, status: 200,
      responses: { 200: { description: 'The environment', schema: EnvironmentSchema } },
      handler: async ({ actor, params }) => toEnvironment(await svc.get(actor!, params.environmentId)),
    }),
    defineRoute({
      operationId: 'updateEnvironment', method: 'patch', path: '/api/environments/:environmentId', summary: 'Rename an environment (display name only)',
      tags: ['environments'], auth: 'user', params: EnvParams, body: UpdateEnvironmentBody, status: 200,
      responses: { 200: { description: 'The environment', schema: EnvironmentSchema } },
      handler: async ({ actor, params, body }) => toEnvironment(await svc.rename(actor!, params.environmentId, body.name)),
    }),
    defineRoute({
      operationId: 'deleteEnvironment', method: 'delete', path: '/api/environments/:environmentId', summary: 'Delete an environment (a project keeps at least one)',
      tags: ['environments'], auth: 'user', params: EnvParams, status: 204, errors: [409],
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        await svc.delete(actor!, params.environmentId);
      },
    }),
    defineRoute({
      operationId: 'duplicateEnvironment', method: 'post', path: '/api/environments/:environmentId/duplicate',
      summary: 'Duplicate an environment with its services and variables', tags: ['environments'], auth: 'user',
      params: EnvParams, body: CreateEnvironmentBody, status: 201, errors: [409],
      responses: { 201: { description: 'The new environment', schema: EnvironmentSchema } },
      handler: async ({ actor, params, body }) => toEnvironment(await svc.duplicate(actor!, params.environmentId, body)),
    }),
  ];
}
