/**
 * Routes of outgoing webhooks: create (the answer carries the signing secret, once), list per project, delete.
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import { WEBHOOK_EVENTS, type WebhookView, type WebhooksService } from './service.ts';

/** WebhookSchema is the API form of a webhook (without its secret). */
export const WebhookSchema = z.object({
  id: z.uuid(),
  projectId: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  description: z.string(),
  createdAt: z.iso.datetime(),
}).meta({ id: 'Webhook' });

/** CreateWebhookBody is the body of POST /api/projects/:projectId/webhooks. */
export const CreateWebhookBody = z.object({
  url: z.string().min(1).max(2048).describe('http(s) URL on a public address'),
  events: z.array(z.enum(WEBHOOK_EVENTS)).min(1).max(WEBHOOK_EVENTS.length).optional().describe('Event types; default every event (`*`)'),
  description: z.string().max(200).optional(),
}).strict().meta({ id: 'CreateWebhook' });

function toWebhook(w: WebhookView): z.infer<typeof WebhookSchema> {
  return { id: w.id, projectId: w.projectId, url: w.url, events: w.events, description: w.description, createdAt: w.createdAt.toISOString() };
}

const ProjectParams = z.object({ projectId: z.string().max(64) });
const WebhookParams = z.object({ webhookId: z.string().max(64) });

/** webhookRoutes declares the webhook operations. */
export function webhookRoutes(svc: WebhooksService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'createWebhook', method: 'post', path: '/api/projects/:projectId/webhooks', summary: 'Add an outgoing webhook to a project',
      tags: ['webhooks'], auth: 'user', params: ProjectParams, body: CreateWebhookBody, status: 201, errors: [422],
      responses: { 201: { description: 'The webhook, with its signing secret (shown only now)', schema: WebhookSchema.extend({ secret: z.string().describe('HMAC-SHA256 key of the X-Drover-Signature header') }) } },
      handler: async ({ actor, params, body }) => {
        const { webhook, secret } = await svc.create(actor!, params.projectId, {
          url: body.url, ...(body.events ? { events: body.events } : {}), ...(body.description !== undefined ? { description: body.description } : {}),
        });
        return { ...toWebhook(webhook), secret };
      },
    }),
    defineRoute({
      operationId: 'listWebhooks', method: 'get', path: '/api/projects/:projectId/webhooks', summary: "List a project's webhooks",
      tags: ['webhooks'], auth: 'user', params: ProjectParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of webhooks', schema: pageSchema(WebhookSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.list(actor!, params.projectId, query);
        return { items: page.items.map(toWebhook), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'deleteWebhook', method: 'delete', path: '/api/webhooks/:webhookId', summary: 'Remove a webhook',
      tags: ['webhooks'], auth: 'user', params: WebhookParams, status: 204,
      responses: { 204: { description: 'Deleted' } },
      handler: async ({ actor, params }) => {
        await svc.delete(actor!, params.webhookId);
      },
    }),
  ];
}
