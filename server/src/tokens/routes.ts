/** API token routes: create (the secret is shown once), list, delete. */
import { z } from 'zod';
import { Scopes } from '../core/actor.ts';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { defineRoute, reply, type AnyRoute } from '../http/route.ts';
import { limited } from '../auth/limited.ts';
import { must } from '../teams/routes.ts';
import type { TokenService } from './service.ts';

/** ApiTokenSchema is a token without its secret. */
export const ApiTokenSchema = z
  .object({
    id: z.uuid(), name: z.string(), prefix: z.string(), scopes: z.array(z.enum(Scopes)), createdAt: z.string(),
    expiresAt: z.string().nullable(), lastUsedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiToken' });
/** CreatedApiTokenSchema adds the secret, shown this once. */
export const CreatedApiTokenSchema = ApiTokenSchema.extend({ token: z.string().describe('The token; it is never shown again') }).meta({ id: 'CreatedApiToken' });
/** CreateTokenBody names the token, its scopes (a subset of read/deploy/admin) and an optional expiry. */
export const CreateTokenBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    scopes: z.array(z.enum(Scopes)).min(1).max(3),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .meta({ id: 'CreateApiTokenRequest' });
/** TokenParams names a token. */
export const TokenParams = z.object({ tokenId: z.uuid() });

/** tokenRoutes declares the API token operations. */
export function tokenRoutes(tokens: TokenService): AnyRoute[] {
  const tags = ['tokens'];
  return [
    defineRoute({
      operationId: 'createToken', method: 'post', path: '/api/tokens', summary: 'Create an API token (shown once)', tags, auth: 'user',
      body: CreateTokenBody, status: 201, errors: [429], responses: { 201: { description: 'The token and its secret', schema: CreatedApiTokenSchema } },
      handler: async ({ actor, body, ctx }) =>
        limited(ctx, () => tokens.create(must(actor), { name: body.name, scopes: body.scopes, expiresAt: body.expiresAt ? new Date(body.expiresAt) : undefined })),
    }),
    defineRoute({
      operationId: 'listTokens', method: 'get', path: '/api/tokens', summary: 'List the caller’s API tokens (never their secrets)', tags, auth: 'user',
      query: PageQuery, status: 200, responses: { 200: { description: 'A page of tokens', schema: pageSchema(ApiTokenSchema).meta({ id: 'ApiTokenPage' }) } },
      handler: async ({ actor, query }) => tokens.list(must(actor), query),
    }),
    defineRoute({
      operationId: 'deleteToken', method: 'delete', path: '/api/tokens/:tokenId', summary: 'Revoke one of the caller’s API tokens', tags, auth: 'user',
      params: TokenParams, status: 204, responses: { 204: { description: 'Revoked' } },
      handler: async ({ actor, params }) => {
        await tokens.delete(must(actor), params.tokenId);
        return reply(204);
      },
    }),
  ];
}
