// `/projects/:id` opens the production environment (or the first one).
import { redirect } from '@sveltejs/kit';
import type { PageLoad } from './$types';

export const load: PageLoad = async ({ parent, params }) => {
  const { environments } = await parent();
  const env = environments.find((e) => e.slug === 'production') ?? environments[0];
  if (env) redirect(307, `/projects/${params.projectId}/environments/${env.id}`);
  return {};
};
