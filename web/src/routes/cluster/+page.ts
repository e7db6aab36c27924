// Cluster status: Nomad, Consul and Vault reachability and Nomad's client nodes (depends on `app:cluster`; the page
// re-checks every 15 s).
import { api, ok } from '#lib/api/client.ts';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ depends }) => {
  depends('app:cluster');
  return { status: await ok(api.GET('/api/cluster/status')) };
};
