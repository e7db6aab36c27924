/**
 * Domain routes: `POST/GET /api/services/:serviceId/domains`, `GET/DELETE /api/domains/:domainId`,
 * `POST /api/domains/:domainId/verify`, and the public HTTP challenge `GET /.well-known/drover-challenge/:token`.
 */
import { z } from 'zod';
import { DomainError } from '../core/errors.ts';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { DomainsService, DomainView } from './domains.service.ts';
import { CHALLENGE_LABEL, CHALLENGE_PATH } from './verification.ts';

/** DomainSchema is the API form of a domain, with how to verify it and whether it is routed. */
export const DomainSchema = z
  .object({
    id: z.uuid(),
    serviceId: z.uuid(),
    environmentId: z.uuid(),
    projectId: z.uuid(),
    hostname: z.string().describe('Lower-case ASCII hostname (punycode for IDN)'),
    kind: z.enum(['generated', 'custom']),
    verification: z.object({
      status: z.enum(['pending', 'verified']),
      method: z.enum(['dns', 'http']).nullable(),
      verifiedAt: z.iso.datetime().nullable(),
      dnsRecord: z.object({ type: z.literal('TXT'), name: z.string(), value: z.string() }).nullable()
        .describe('Create this TXT record to prove ownership'),
      httpUrl: z.string().nullable().describe('Or make this URL answer the token (Drover answers it when the domain points at Drover)'),
      lastCheckedAt: z.iso.datetime().nullable(),
      lastCheckError: z.string().nullable().describe('What the last failed check found'),
    }),
    certificateStatus: z.enum(['pending', 'issued', 'unknown']),
    routed: z.boolean().describe('Whether traffic for the hostname reaches the service'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Domain' });

/** toDomain maps a domain to DomainSchema. */
export function toDomain(d: DomainView): z.infer<typeof DomainSchema> {
  const pending = d.verificationStatus === 'pending' && d.verificationToken !== null;
  return {
    id: d.id, serviceId: d.serviceId, environmentId: d.environmentId, projectId: d.projectId, hostname: d.hostname, kind: d.kind,
    verification: {
      status: d.verificationStatus,
      method: d.verifiedBy,
      verifiedAt: d.verifiedAt ? d.verifiedAt.toISOString() : null,
      dnsRecord: pending ? { type: 'TXT', name: `${CHALLENGE_LABEL}.${d.hostname}`, value: d.verificationToken as string } : null,
      httpUrl: pending ? `http://${d.hostname}${CHALLENGE_PATH}${d.verificationToken as string}` : null,
      lastCheckedAt: d.lastCheckedAt ? d.lastCheckedAt.toISOString() : null,
      lastCheckError: d.lastCheckError,
    },
    certificateStatus: d.certificateStatus,
    routed: d.routed,
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
  };
}

/** AddDomainBody is the body of POST /api/services/:serviceId/domains. */
export const AddDomainBody = z.object({ hostname: z.string().max(1000) }).strict().meta({ id: 'AddDomain' });

const ServiceParams = z.object({ serviceId: z.string().max(64) });
const DomainParams = z.object({ domainId: z.string().max(64) });

/** domainRoutes declares the domain operations over a DomainsService. */
export function domainRoutes(svc: DomainsService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'addDomain', method: 'post', path: '/api/services/:serviceId/domains', summary: 'Add a custom domain to a service',
      tags: ['domains'], auth: 'user', params: ServiceParams, body: AddDomainBody, status: 201, errors: [409, 422],
      responses: { 201: { description: 'The domain (pending verification)', schema: DomainSchema } },
      handler: async ({ actor, params, body }) => toDomain(await svc.add(actor!, params.serviceId, body.hostname)),
    }),
    defineRoute({
      operationId: 'listDomains', method: 'get', path: '/api/services/:serviceId/domains', summary: "List a service's domains",
      tags: ['domains'], auth: 'user', params: ServiceParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of domains', schema: pageSchema(DomainSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.serviceId, query);
        return { items: page.items.map(toDomain), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getDomain', method: 'get', path: '/api/domains/:domainId', summary: 'Get a domain',
      tags: ['domains'], auth: 'user', params: DomainParams, status: 200,
      responses: { 200: { description: 'The domain', schema: DomainSchema } },
      handler: async ({ actor, params }) => toDomain(await svc.get(actor!, params.domainId)),
    }),
    defineRoute({
      operationId: 'deleteDomain', method: 'delete', path: '/api/domains/:domainId', summary: 'Remove a custom domain',
      tags: ['domains'], auth: 'user', params: DomainParams, status: 204, errors: [422],
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        await svc.delete(actor!, params.domainId);
      },
    }),
    defineRoute({
      operationId: 'verifyDomain', method: 'post', path: '/api/domains/:domainId/verify', summary: 'Check ownership of a custom domain (DNS TXT or HTTP token)',
      tags: ['domains'], auth: 'user', params: DomainParams, status: 200,
      responses: { 200: { description: 'The domain after the check: verified, or pending with lastCheckError', schema: DomainSchema } },
      handler: async ({ actor, params }) => toDomain(await svc.verify(actor!, params.domainId)),
    }),
    defineRoute({
      operationId: 'answerDomainChallenge', method: 'get', path: '/.well-known/drover-challenge/:token',
      summary: 'HTTP ownership challenge: answers the token of a pending custom domain',
      tags: ['domains'], auth: 'public', params: z.object({ token: z.string().max(64) }), status: 200, errors: [404],
      responses: { 200: { description: 'The token', schema: z.string(), contentType: 'text/plain' } },
      handler: async ({ params, ctx }) => {
        const answer = await svc.challengeAnswer(params.token);
        if (answer === null) throw new DomainError('route/not_found', 'No such challenge');
        ctx.type = 'text/plain';
        ctx.set('Cache-Control', 'no-store');
        return answer;
      },
    }),
  ];
}
