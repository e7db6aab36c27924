// The caller's API tokens (depends on `app:tokens`).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ depends }) => {
  depends('app:tokens');
  return { tokens: await ok(api.GET('/api/tokens', { params: { query: { limit: 100 } } })) };
};
