/**
 * Blocking queries: re-issue a read with `index` = the last X-Nomad-Index so Nomad answers only on change. Like
 * Nomad's (and Consul's) own clients, an index that goes backwards (a restored snapshot, a new cluster, a leader
 * with a shorter log) resets the watch to 0, so the next read answers at once with the current state.
 */
import type { QueryMeta, QueryOptions, QueryResult } from './http.ts';

/**
 * nextBlockingIndex returns the index to block on after a response: `meta.lastIndex` when it moved forward or stayed,
 * 0 when it went backwards (reset).
 */
export function nextBlockingIndex(previous: number, meta: QueryMeta): number {
  return meta.lastIndex < previous ? 0 : meta.lastIndex;
}

/** WatchOptions configure a blocking-query loop. */
export interface WatchOptions extends Omit<QueryOptions, 'index'> {
  /** index is where to start (0 = read the current state first). */
  index?: number;
  /** wait is the longest one blocking read waits, in ms (default 5 minutes). */
  wait?: number;
  /** idleDelayMs is a pause before re-reading when Nomad answers index 0 twice (guards a hot loop); default 1000. */
  idleDelayMs?: number;
}

/**
 * watch yields the result of `read` whenever Nomad's index for it differs from the last one yielded (and the
 * first state at once when starting from 0). It blocks with `index`/`wait`; when the index goes backwards it yields
 * that state and re-reads from 0 (without yielding the same index twice). It ends when the signal aborts; errors
 * of `read` (after its own retries) end the loop by throwing.
 */
export async function* watch<T>(read: (q: QueryOptions) => Promise<QueryResult<T>>, opts: WatchOptions = {}): AsyncGenerator<QueryResult<T>> {
  const { index: start, idleDelayMs, ...q } = opts;
  let index = start ?? 0;
  // lastSeen is the index of the state the caller holds: a result at that index is not news.
  let lastSeen: number | undefined = index > 0 ? index : undefined;
  let zeroes = 0;
  const wait = opts.wait ?? 300_000;
  while (!opts.signal?.aborted) {
    let r: QueryResult<T>;
    try {
      r = await read({ ...q, wait, index });
    } catch (e) {
      if (opts.signal?.aborted) return;
      throw e;
    }
    if (r.meta.lastIndex === 0) {
      zeroes++;
      if (zeroes >= 2) await delay(idleDelayMs ?? 1000, opts.signal);
    } else zeroes = 0;
    index = nextBlockingIndex(index, r.meta);
    if (r.meta.lastIndex !== lastSeen) {
      lastSeen = r.meta.lastIndex;
      yield r;
    }
  }
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
