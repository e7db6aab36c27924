/**
 * The event stream handle (`/v1/event/stream`), modelled on Go's api.EventStream, plus what Go leaves to the
 * caller: reconnecting after a dropped connection from the last index seen, without repeating a batch.
 */
import { isNomadRetryable } from './errors.ts';
import type { NomadHttp, QueryOptions } from './http.ts';
import { backoffDelay } from './http.ts';
import { decodeEventStream } from './stream/events.ts';
import type { EventBatch } from './stream/events.ts';

/** EventTopics maps a topic (Job, Allocation, Deployment, Evaluation, Node, …) to the keys wanted (`*` = all). */
export type EventTopics = Partial<Record<string, readonly string[]>>;

/** EventStreamOptions configure a subscription. */
export interface EventStreamOptions extends Pick<QueryOptions, 'namespace' | 'region' | 'authToken' | 'filter'> {
  /** topics to subscribe to; every topic when empty. */
  topics?: EventTopics;
  /** index is the first Raft index wanted (0 = from now/what the broker still holds). */
  index?: number;
  /** reconnect re-opens a dropped stream from the last index seen + 1 (default true). */
  reconnect?: boolean;
  /** maxReconnects bounds consecutive failed re-opens (default 10); a delivered batch resets the count. */
  maxReconnects?: number;
  /** idleTimeoutMs treats a stream silent this long as dead and reconnects (default 35 s; Nomad beats every 10 s). */
  idleTimeoutMs?: number;
  /** signal ends the subscription: the iterator returns. */
  signal?: AbortSignal;
}

/** topicParams turns EventTopics into the repeated `topic=Topic:key` parameters Nomad expects. */
export function topicParams(topics: EventTopics | undefined): string[] {
  const out: string[] = [];
  for (const [topic, keys] of Object.entries(topics ?? {})) {
    for (const key of keys ?? ['*']) out.push(`${topic}:${key}`);
  }
  return out;
}

/** EventStream is the handle on Nomad's event stream. */
export class EventStream {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /**
   * subscribe yields event batches in index order. When the connection drops (or Nomad ends the stream) it
   * reconnects with backoff from the last index + 1 and skips batches already delivered; an abort ends it.
   * Non-retryable errors (403, 400, an `Err` line) are thrown.
   */
  async *subscribe(opts: EventStreamOptions = {}): AsyncGenerator<EventBatch> {
    let last = opts.index ? opts.index - 1 : 0;
    let failures = 0;
    const retry = this.http.config.retry ?? { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 };
    const maxReconnects = opts.maxReconnects ?? 10;
    while (!opts.signal?.aborted) {
      try {
        const res = await this.http.stream('/v1/event/stream', {
          namespace: opts.namespace,
          region: opts.region,
          authToken: opts.authToken,
          filter: opts.filter,
          signal: opts.signal,
        }, { topic: topicParams(opts.topics), index: last > 0 ? last + 1 : (opts.index ?? undefined) }, opts.idleTimeoutMs ?? 35_000);
        for await (const batch of decodeEventStream(res.body)) {
          if (last > 0 && batch.index <= last) continue;
          failures = 0;
          last = batch.index;
          yield batch;
        }
        if (opts.reconnect === false) return;
      } catch (e) {
        if (opts.signal?.aborted) return;
        if (opts.reconnect === false || !isNomadRetryable(e) || ++failures > maxReconnects) throw e;
      }
      await pause(backoffDelay(Math.max(1, failures), retry), opts.signal);
    }
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
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
