/**
 * Service routes: `POST/GET /api/environments/:environmentId/services`, `GET/PATCH/DELETE /api/services/:serviceId`.
 * Registry credentials are accepted on create and update and never returned (only `registryCredentials: true`).
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { displayNameSchema, slugSchema } from '../core/slugs.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import { immutableSlug } from '../projects/projects.routes.ts';
import type { ServiceConfigsService, ServicePatch, ServiceView } from './service-configs.service.ts';
import { RegistryCredentialsSchema, RestartPolicies, ServiceConfigFields } from './validation.ts';

/** ServiceSchema is the API form of a service: identity, configuration, and whether credentials are stored. */
export const ServiceSchema = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    projectId: z.uuid(),
    slug: z.string().describe('Immutable slug'),
    name: z.string(),
    image: z.string().optional(),
    artifact: z.object({ url: z.string(), checksum: z.string(), command: z.array(z.string()) }).optional(),
    command: z.array(z.string()).optional(),
    port: z.number().int().optional(),
    public: z.boolean(),
    healthcheck: z.object({ path: z.string(), interval: z.string(), timeout: z.string() }).optional(),
    replicas: z.number().int(),
    resources: z.object({ cpu: z.number().int(), memory: z.number().int(), memory_max: z.number().int().optional() }),
    restart: z.enum(RestartPolicies),
    cron: z.string().optional(),
    timezone: z.string().optional(),
    volumes: z.array(z.object({ name: z.string(), mount: z.string(), size: z.string() })),
    registryCredentials: z.boolean().describe('Whether registry credentials are stored (they are never returned)'),
    generatedHostname: z.string().nullable().describe('The generated domain, when the service is public'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Service' });

/** toService maps a service to ServiceSchema. */
export function toService(s: ServiceView): z.infer<typeof ServiceSchema> {
  return {
    id: s.id, environmentId: s.environmentId, projectId: s.projectId, slug: s.slug, name: s.name, ...s.config,
    registryCredentials: s.registryCredentials, generatedHostname: s.generatedHostname,
    createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString(),
  };
}

/** CreateServiceBody is the body of POST /api/environments/:environmentId/services. */
export const CreateServiceBody = z
  .object({ slug: slugSchema, name: displayNameSchema.optional(), registry: RegistryCredentialsSchema.optional(), ...ServiceConfigFields })
  .strict()
  .meta({ id: 'CreateService' });

const patchFields = Object.fromEntries(Object.entries(ServiceConfigFields).map(([k, v]) => [k, v.unwrap().nullable().optional()])) as {
  [K in keyof typeof ServiceConfigFields]: z.ZodOptional<z.ZodNullable<ReturnType<(typeof ServiceConfigFields)[K]['unwrap']>>>;
};

/** UpdateServiceBody is the body of PATCH /api/services/:serviceId: null removes a field; the slug is immutable. */
export const UpdateServiceBody = z
  .object({ name: displayNameSchema.optional(), slug: immutableSlug, registry: RegistryCredentialsSchema.nullable().optional(), ...patchFields })
  .strict()
  .meta({ id: 'UpdateService' });

const EnvParams = z.object({ environmentId: z.string().max(64) });
const ServiceParams = z.object({ serviceId: z.string().max(64) });

/** serviceRoutes declares the service-configuration operations over a ServiceConfigsService. */
export function serviceRoutes(svc: ServiceConfigsService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'createService', method: 'post', path: '/api/environments/:environmentId/services', summary: 'Create a service',
      tags: ['services'], auth: 'user', params: EnvParams, body: CreateServiceBody, status: 201, errors: [409],
      responses: { 201: { description: 'The service', schema: ServiceSchema } },
      handler: async ({ actor, params, body }) => toService(await svc.create(actor!, params.environmentId, body)),
    }),
    defineRoute({
      operationId: 'listServices', method: 'get', path: '/api/environments/:environmentId/services', summary: "List an environment's services",
      tags: ['services'], auth: 'user', params: EnvParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of services', schema: pageSchema(ServiceSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.environmentId, query);
        return { items: page.items.map(toService), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getService', method: 'get', path: '/api/services/:serviceId', summary: 'Get a service',
      tags: ['services'], auth: 'user', params: ServiceParams, status: 200,
      responses: { 200: { description: 'The service', schema: ServiceSchema } },
      handler: async ({ actor, params }) => toService(await svc.get(actor!, params.serviceId)),
    }),
    defineRoute({
      operationId: 'updateService', method: 'patch', path: '/api/services/:serviceId', summary: 'Change a service configuration',
      tags: ['services'], auth: 'user', params: ServiceParams, body: UpdateServiceBody, status: 200, errors: [409],
      responses: { 200: { description: 'The service', schema: ServiceSchema } },
      handler: async ({ actor, params, body }) => toService(await svc.update(actor!, params.serviceId, body as ServicePatch)),
    }),
    defineRoute({
      operationId: 'deleteService', method: 'delete', path: '/api/services/:serviceId', summary: 'Delete a service',
      tags: ['services'], auth: 'user', params: ServiceParams, status: 204,
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        await svc.delete(actor!, params.serviceId);
      },
    }),
  ];
}
