// A team's audit log, newest first (depends on `app:audit`); owners and admins only (the server enforces it).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, url }) => {
  depends('app:audit');
  const cursor = url.searchParams.get('cursor') ?? undefined;
  const audit = await ok(api.GET('/api/teams/{teamId}/audit', { params: { path: { teamId: params.teamId }, query: { limit: 50, ...(cursor ? { cursor } : {}) } } }));
  return { audit };
};
