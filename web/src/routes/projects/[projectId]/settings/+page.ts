// Project settings: outgoing webhooks (depends on `app:webhooks`).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends }) => {
  depends('app:webhooks');
  const webhooks = await ok(api.GET('/api/projects/{projectId}/webhooks', { params: { path: { projectId: params.projectId }, query: { limit: 100 } } }));
  return { webhooks: webhooks.items };
};
