// An environment: every service (all pages, for the canvas; streamed), the shared variables and the managed
// databases (depends on `app:services`, `app:variables`, `app:databases`). Reference edges are filled in by the page after first paint.
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends }) => {
  depends('app:services', 'app:variables', 'app:databases');
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
  const [environment, shared, databases] = await Promise.all([
    ok(api.GET('/api/environments/{environmentId}', { params: { path } })),
    ok(api.GET('/api/environments/{environmentId}/variables', { params: { path } })),
    ok(api.GET('/api/environments/{environmentId}/databases', { params: { path, query: { limit: 100 } } })),
  ]);
  // The services arrive as a promise (streamed): the page paints its frame at once and the canvas when they land.
  return { environment, shared, databases: databases.items, streamed: { services: servicesP } };
};
