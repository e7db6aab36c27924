/**
 * Reference edges for the canvas: for each service, the targets its variables reference (`${{ api.PRIVATE_URL }}`
 * → an edge to service `api`). Variable lists are fetched a few at a time after first paint, so a project of 500
 * services shows its nodes at once and its edges as they arrive. The lists must carry each variable's `references`
 * (or a reference's non-secret `value`); values are never revealed for this.
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

/** referenceEdges resolves every service's references to edges between services of the list (others are dropped). */
export async function referenceEdges(services: readonly EdgeService[], concurrency = 6): Promise<GraphEdge[]> {
  const bySlug = new Map(services.map((s) => [s.slug, s.id]));
  const edges: GraphEdge[] = [];
  const seen = new Set<string>();
  let next = 0;
  let unsupported = false;
  async function worker() {
    while (next < services.length && !unsupported) {
      const s = services[next++]!;
      let vars;
      try {
        vars = await ok(api.GET('/api/services/{serviceId}/variables', { params: { path: { serviceId: s.id } } }));
      } catch {
        continue; // an unreadable list only loses that node's edges; the page shows the problem elsewhere
      }
      // A server whose variable lists carry neither `references` nor reference values cannot give edges: stop asking.
      if (vars.items.some((v) => !('references' in v) && !('value' in v))) {
        unsupported = true;
        break;
      }
      for (const v of vars.items) {
        for (const target of referencedTargets(v)) {
          const to = bySlug.get(target);
          const key = `${s.id}>${to}`;
          if (to && to !== s.id && !seen.has(key)) {
            seen.add(key);
            edges.push({ from: s.id, to });
          }
        }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, services.length) }, worker));
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
