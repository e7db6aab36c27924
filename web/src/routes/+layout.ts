// The dashboard is a client-only single-page app: no server rendering, no prerendering (the server falls back to
// index.html for every non-/api path).
export const ssr = false;
export const prerender = false;
