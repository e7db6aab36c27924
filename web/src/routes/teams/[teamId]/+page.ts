// A team's projects (depends on `app:projects`).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ params, depends, url }) => {
  depends('app:projects');
  const cursor = url.searchParams.get('cursor') ?? undefined;
  const projects = await ok(api.GET('/api/teams/{teamId}/projects', { params: { path: { teamId: params.teamId }, query: { limit: 50, ...(cursor ? { cursor } : {}) } } }));
  return { projects };
};
