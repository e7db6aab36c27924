// `/`: the first team's projects (or the team list when there is none).
import { redirect } from '@sveltejs/kit';
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ depends }) => {
  depends('app:teams');
  const teams = await ok(api.GET('/api/teams', { params: { query: { limit: 100 } } }));
  const first = teams.items[0];
  if (first) redirect(307, `/teams/${first.id}`);
  return { teams: teams.items };
};
