/**
 * Pagination: Nomad's list endpoints answer at most `per_page` items and an X-Nomad-NextToken when more remain.
 */
import type { QueryOptions, QueryResult } from './http.ts';

/**
 * paginate yields every page of a list read, following QueryMeta.nextToken until Nomad sends none. `perPage`
 * defaults to 100; the other QueryOptions (filter, prefix, namespace, signal) apply to every page. It stops after
 * `maxPages` (default 10 000) as a guard against a server that keeps answering the same token.
 */
export async function* paginate<T>(read: (q: QueryOptions) => Promise<QueryResult<T[]>>, q: QueryOptions = {}, maxPages = 10_000): AsyncGenerator<QueryResult<T[]>> {
  let nextToken = q.nextToken;
  const seen = new Set<string>();
  for (let page = 0; page < maxPages; page++) {
    const r = await read({ ...q, perPage: q.perPage ?? 100, nextToken });
    yield r;
    nextToken = r.meta.nextToken;
    if (!nextToken || seen.has(nextToken)) return;
    seen.add(nextToken);
  }
}

/** listAll collects every item of a paginated list read (see paginate). */
export async function listAll<T>(read: (q: QueryOptions) => Promise<QueryResult<T[]>>, q: QueryOptions = {}): Promise<T[]> {
  const out: T[] = [];
  for await (const page of paginate(read, q)) out.push(...(page.data ?? []));
  return out;
}
