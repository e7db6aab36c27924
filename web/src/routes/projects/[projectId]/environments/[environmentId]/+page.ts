// An environment: every service (all pages, for the canvas; streamed) and the shared variables (depends on `app:services`,
// `app:variables`). Reference edges are filled in by the page after first paint.
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends }) => {
  depends('app:services', 'app:variables');
  const path = { environmentId: params.environmentId };
  const servicesP = (async () => {
    const all = [];
    let cursor: string | undefined;
    do {
      const page = await ok(api.GET('/api/environments/{environmentId}/services', { params: { path, query: { limit: 100, ...(cursor ? { cursor } : {}) } } }));
      all.push(...page.items);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return all;
  })();
  servicesP.catch(() => undefined); // the page shows the failure; this only keeps it from being unhandled
  const [environment, shared] = await Promise.all([
    ok(api.GET('/api/environments/{environmentId}', { params: { path } })),
    ok(api.GET('/api/environments/{environmentId}/variables', { params: { path } })),
  ]);
  // The services arrive as a promise (streamed): the page paints its frame at once and the canvas when they land.
  return { environment, shared, streamed: { services: servicesP } };
};
