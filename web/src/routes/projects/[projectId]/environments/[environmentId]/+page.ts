// An environment: every service (all pages, for the canvas) and the shared variables (depends on `app:services`,
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
  const [environment, services, shared] = await Promise.all([
    ok(api.GET('/api/environments/{environmentId}', { params: { path } })),
    servicesP,
    ok(api.GET('/api/environments/{environmentId}/variables', { params: { path } })),
  ]);
  return { environment, services, shared };
};
