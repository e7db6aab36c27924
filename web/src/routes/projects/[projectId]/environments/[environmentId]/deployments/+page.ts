// Deploy an environment: what a deploy would take (every service and database of the environment; depends on
// `app:services`, `app:databases`) and, after a deploy, the batch it queued (`?d=<deployment ID>` once per deployment;
// each with its `databases` events, message and data; depends on `app:deployments`, which the team event stream
// invalidates as states change).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, url }) => {
  depends('app:services', 'app:databases', 'app:deployments');
  const path = { environmentId: params.environmentId };
  const ids = url.searchParams.getAll('d').filter((id) => /^[0-9a-f-]{36}$/.test(id)).slice(0, 100);
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
  const [environment, services, databases, batch] = await Promise.all([
    ok(api.GET('/api/environments/{environmentId}', { params: { path } })),
    servicesP,
    ok(api.GET('/api/environments/{environmentId}/databases', { params: { path, query: { limit: 100 } } })),
    Promise.all(ids.map(async (deploymentId) => {
      const p = { path: { deploymentId } };
      const [deployment, events] = await Promise.all([
        ok(api.GET('/api/deployments/{deploymentId}', { params: p })),
        ok(api.GET('/api/deployments/{deploymentId}/events', { params: { ...p, query: { after: 0, limit: 500 } } })),
      ]);
      return { deployment, notes: events.items.filter((e) => e.kind === 'databases').map((e) => ({ message: e.message, data: e.data })) };
    })),
  ]);
  return { environment, services, databases: databases.items.filter((d) => d.status === 'live'), batch };
};
