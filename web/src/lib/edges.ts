/**
 * Reference edges for the canvas: for each service, the targets its variables reference (`${{ api.PRIVATE_URL }}`
 * → an edge to service `api`). They come from one listing per environment, `GET /api/environments/{id}/references`
 * (every variable of the environment that references something, with its `references`; never a value), paged
 * after first paint, so a project of 500 services shows its nodes at once and its edges as they arrive.
 */
import { api, ok } from './api/client.ts';
import type { GraphEdge } from './graph.ts';
import { parseReferences } from './refs.ts';

/** EdgeService is what referenceEdges needs of a service. */
export interface EdgeService {
  /** id is the service's id (the node id). */
  id: string;
  /** slug is what references name. */
  slug: string;
}

/**
 * referenceEdges resolves the references of an environment's variables to edges between services of the list
 * (references to other targets, shared variables and services not in the list are dropped; duplicates merged).
 * A failing page ends the listing with the edges found so far: the page shows the problem elsewhere.
 */
export async function referenceEdges(environmentId: string, services: readonly EdgeService[]): Promise<GraphEdge[]> {
  const bySlug = new Map(services.map((s) => [s.slug, s.id]));
  const known = new Set(services.map((s) => s.id));
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  do {
    let page;
    try {
      page = await ok(api.GET('/api/environments/{environmentId}/references', {
        params: { path: { environmentId }, query: { limit: 100, ...(cursor ? { cursor } : {}) } },
      }));
    } catch {
      break;
    }
    for (const v of page.items) {
      if (v.serviceId === null || !known.has(v.serviceId)) continue;
      for (const target of referencedTargets(v)) {
        const to = bySlug.get(target);
        const key = `${v.serviceId}>${to}`;
        if (to && to !== v.serviceId && !seen.has(key)) {
          seen.add(key);
          edges.push({ from: v.serviceId, to });
        }
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return edges;
}

/**
 * referencedTargets reads the targets a listed variable references: its `references` (`[{ target, name }]` or
 * `["svc.VAR"]`) when the API lists them, else the references in a `value` it carries (a non-secret reference value).
 * Values are never revealed for this.
 */
export function referencedTargets(v: object): string[] {
  const out: string[] = [];
  const refs = (v as { references?: unknown }).references;
  if (Array.isArray(refs)) {
    for (const r of refs) {
      if (typeof r === 'string') out.push(r.split('.')[0] ?? '');
      else if (r && typeof r === 'object' && typeof (r as { target?: unknown }).target === 'string') out.push((r as { target: string }).target);
    }
  }
  const value = (v as { value?: unknown }).value;
  if (typeof value === 'string') for (const r of parseReferences(value)) out.push(r.target);
  return out.filter((t) => t !== '' && t !== 'shared');
}
