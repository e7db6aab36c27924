// The root load: who is signed in (depends on `app:session`, invalidated by login, logout and setup). The dashboard
// is a client-only single-page app: no server rendering, no prerendering (the server falls back to index.html for
// every non-/api path). Signed-out visitors go to /setup while Drover has no user, else to /login.
import { redirect } from '@sveltejs/kit';
import { api, ApiProblem, ok } from '#lib/api/client.ts';
import type { LayoutLoad } from './$types';

export const ssr = false;
export const prerender = false;

const PUBLIC = ['/setup', '/login', '/invitations/accept', '/reset-password'];

export const load: LayoutLoad = async ({ depends, url }) => {
  depends('app:session');
  let session: Awaited<ReturnType<typeof getSession>> | null = null;
  try {
    session = await getSession();
  } catch (err) {
    if (!(err instanceof ApiProblem) || err.status !== 401) throw err;
  }
  const isPublic = PUBLIC.some((p) => url.pathname === p || url.pathname.startsWith(p + '/'));
  if (!session && !isPublic) {
    const setup = await ok(api.GET('/api/setup'));
    if (setup.open) redirect(307, '/setup');
    redirect(307, `/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  return { session };
};

function getSession() {
  return ok(api.GET('/api/auth/session'));
}
