/**
 * The transport under every Nomad handle: one keep-alive undici Pool per address, QueryOptions/WriteOptions turned
 * into query parameters and headers like Nomad's Go `api` package does, QueryMeta/WriteMeta read from the
 * X-Nomad-* headers, bounded retries with jitter for idempotent reads only, typed errors.
 */
import { Pool, errors as undiciErrors } from 'undici';
import type { Dispatcher } from 'undici';
import type { NomadClientConfig, NomadRetryConfig } from './config.ts';
import { normalizeNomadAddress } from './config.ts';
import { NomadConnectionError, NomadStreamError, NomadUnexpectedResponseError, isNomadRetryable } from './errors.ts';

/** QueryOptions are the options of every Nomad read (Go's api.QueryOptions). */
export interface QueryOptions {
  /** namespace overrides the client's default namespace (`*` lists across namespaces where Nomad allows it). */
  namespace?: string;
  /** region overrides the client's default region. */
  region?: string;
  /** index makes the read a blocking query: Nomad answers when its index exceeds this one, or after `wait`. */
  index?: number;
  /** wait is the longest a blocking query waits, in milliseconds (sent as `<n>ms`; Nomad caps it at 10 minutes). */
  wait?: number;
  /** filter is a go-bexpr filter expression applied by Nomad. */
  filter?: string;
  /** perPage limits the page size of list endpoints (`per_page`). */
  perPage?: number;
  /** nextToken continues a paginated list (`next_token`, from QueryMeta.nextToken). */
  nextToken?: string;
  /** prefix filters list endpoints by ID prefix. */
  prefix?: string;
  /** reverse lists in reverse order where Nomad supports it. */
  reverse?: boolean;
  /** stale allows any server (not only the leader) to answer. */
  stale?: boolean;
  /** authToken overrides the client's token for this request (e.g. the management token of namespace setup). */
  authToken?: string;
  /** signal aborts the request and any backoff between retries. */
  signal?: AbortSignal;
}

/** QueryMeta is what Nomad says about a read (Go's api.QueryMeta), from the X-Nomad-* response headers. */
export interface QueryMeta {
  /** lastIndex is X-Nomad-Index: the Raft index the answer reflects; pass it as `index` to block for changes. */
  lastIndex: number;
  /** knownLeader is X-Nomad-KnownLeader: false when the answering server knows no leader. */
  knownLeader: boolean;
  /** lastContact is X-Nomad-LastContact in milliseconds: staleness of a stale read. */
  lastContact: number;
  /** nextToken is X-Nomad-NextToken: present when a paginated list has more pages. */
  nextToken?: string;
  /** requestTimeMs is the round-trip time of the request that answered. */
  requestTimeMs: number;
}

/** QueryResult pairs the decoded body of a read with its QueryMeta. */
export interface QueryResult<T> {
  /** data is the decoded response body. */
  data: T;
  /** meta is the QueryMeta of the response. */
  meta: QueryMeta;
}

/** WriteOptions are the options of every Nomad write (Go's api.WriteOptions). */
export interface WriteOptions {
  /** namespace overrides the client's default namespace. */
  namespace?: string;
  /** region overrides the client's default region. */
  region?: string;
  /** idempotencyToken makes Nomad drop a repeated write with the same token (job dispatch). */
  idempotencyToken?: string;
  /** authToken overrides the client's token for this request. */
  authToken?: string;
  /** signal aborts the request. */
  signal?: AbortSignal;
}

/** WriteMeta is what Nomad says about a write (Go's api.WriteMeta). */
export interface WriteMeta {
  /** lastIndex is X-Nomad-Index: the Raft index of the write. */
  lastIndex: number;
  /** requestTimeMs is the round-trip time of the request. */
  requestTimeMs: number;
}

/** WriteResult pairs the decoded body of a write with its WriteMeta. */
export interface WriteResult<T> {
  /** data is the decoded response body (undefined for an empty body). */
  data: T;
  /** meta is the WriteMeta of the response. */
  meta: WriteMeta;
}

/** NomadStreamResponse is an open streaming response: its body chunks and the meta of its headers. */
export interface NomadStreamResponse {
  /** body yields the raw bytes as they arrive; stop iterating (or abort the signal) to close the stream. */
  body: AsyncIterable<Uint8Array>;
  /** meta is the QueryMeta of the response headers. */
  meta: QueryMeta;
}

/** defaultNomadRetry is the retry policy of reads: 4 attempts, backoff ceilings 100, 200, 400 ms (full jitter). */
export const defaultNomadRetry: NomadRetryConfig = { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 5000 };

/** Params are extra query parameters; an array repeats the key (`topic=A&topic=B`), undefined and false are left out. */
export type Params = Record<string, string | number | boolean | readonly string[] | undefined>;

interface RequestSpec {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  params?: Params;
  body?: unknown;
  expected?: readonly number[];
  namespace?: string;
  region?: string;
  authToken?: string;
  signal?: AbortSignal;
  /** extra headers timeout (blocking wait). */
  waitMs?: number;
  stream?: boolean;
  /** idle body timeout of a stream (0 = none). */
  idleTimeoutMs?: number;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  requestTimeMs: number;
}

/** seg encodes one path segment (an ID, a name) so it can never add a path component or a query string. */
export function seg(value: string): string {
  return encodeURIComponent(value);
}

/** segs encodes a slash-separated path (a variable path) segment by segment, refusing empty and dot segments. */
export function segs(value: string): string {
  const parts = value.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) throw new TypeError(`invalid path "${value}"`);
  return parts.map(seg).join('/');
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** parseQueryMeta reads QueryMeta from response headers (exported for the stream decoders and tests). */
export function parseQueryMeta(headers: Record<string, string | string[] | undefined>, requestTimeMs = 0): QueryMeta {
  const index = Number(header(headers, 'X-Nomad-Index') ?? '0');
  const contact = Number(header(headers, 'X-Nomad-LastContact') ?? '0');
  const meta: QueryMeta = {
    lastIndex: Number.isFinite(index) && index >= 0 ? index : 0,
    knownLeader: header(headers, 'X-Nomad-KnownLeader') === 'true',
    lastContact: Number.isFinite(contact) ? contact : 0,
    requestTimeMs,
  };
  const next = header(headers, 'X-Nomad-NextToken');
  if (next) meta.nextToken = next;
  return meta;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** backoffDelay is the full-jitter delay before retry number `attempt` (1-based): random in [0, min(cap, base·2^(n-1))]. */
export function backoffDelay(attempt: number, retry: NomadRetryConfig, random: () => number = Math.random): number {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return (signal?.aborted ?? false) || (e instanceof Error && (e.name === 'AbortError' || e instanceof undiciErrors.RequestAbortedError));
}

/**
 * NomadHttp sends requests to one Nomad address over a keep-alive pool. Reads (GET) retry on connection errors,
 * 5xx and 429 with full-jitter exponential backoff, bounded by `retry`, abortable by the signal; writes are sent
 * once. Close it with close() when done.
 */
export class NomadHttp {
  /** config is the client configuration this transport was built from (address normalized). */
  readonly config: NomadClientConfig;
  private readonly retry: NomadRetryConfig;
  private readonly pools = new Map<string, Pool>();

  constructor(config: NomadClientConfig) {
    this.config = { ...config, address: normalizeNomadAddress(config.address, 'address') };
    this.retry = config.retry ?? defaultNomadRetry;
    if (this.retry.maxAttempts < 1) throw new RangeError('retry.maxAttempts must be at least 1');
  }

  /** pool returns the keep-alive pool of an origin (the configured address by default), creating it once. */
  pool(origin: string = new URL(this.config.address).origin): Pool {
    let p = this.pools.get(origin);
    if (!p) {
      const tls = this.config.tls;
      p = new Pool(origin, {
        connections: this.config.connections ?? 16,
        keepAliveTimeout: 30_000,
        connect: origin.startsWith('https:')
          ? {
              ca: tls?.ca,
              cert: tls?.cert,
              key: tls?.key,
              servername: tls?.serverName,
              rejectUnauthorized: !(tls?.skipVerify ?? false),
            }
          : undefined,
      });
      this.pools.set(origin, p);
    }
    return p;
  }

  /** close closes every pool (waiting for in-flight requests). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close()));
  }

  /** destroy closes every pool at once, aborting in-flight requests and streams. */
  async destroy(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }

  private buildPath(spec: RequestSpec): string {
    const basePath = new URL(this.config.address).pathname.replace(/\/+$/, '');
    const q = new URLSearchParams();
    const ns = spec.namespace ?? this.config.namespace;
    const region = spec.region ?? this.config.region;
    if (region) q.set('region', region);
    if (ns) q.set('namespace', ns);
    for (const [k, v] of Object.entries(spec.params ?? {})) {
      if (v === undefined || v === false) continue;
      if (Array.isArray(v)) for (const item of v as readonly string[]) q.append(k, item);
      else q.set(k, v === true ? 'true' : String(v));
    }
    const qs = q.toString();
    return `${basePath}${spec.path}${qs ? `?${qs}` : ''}`;
  }

  private async once(spec: RequestSpec): Promise<RawResponse> {
    const token = spec.authToken ?? this.config.token;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (token) headers['x-nomad-token'] = token;
    let body: string | undefined;
    if (spec.body !== undefined) {
      body = JSON.stringify(spec.body);
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    const baseTimeout = this.config.headersTimeoutMs ?? 30_000;
    const waitMs = spec.waitMs ?? 0;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool().request({
        method: spec.method,
        path: this.buildPath(spec),
        headers,
        body,
        signal: spec.signal,
        // A blocking query may legitimately hold the response for wait + wait/16 (Nomad's jitter).
        headersTimeout: baseTimeout + waitMs + Math.ceil(waitMs / 16),
        bodyTimeout: spec.stream ? (spec.idleTimeoutMs ?? 0) : baseTimeout,
      });
    } catch (e) {
      if (isAbort(e, spec.signal)) throw e;
      throw new NomadConnectionError(spec.method, spec.path, e);
    }
    const expected = spec.expected ?? [200];
    if (spec.stream && expected.includes(res.statusCode)) {
      return { status: res.statusCode, headers: res.headers, text: '', requestTimeMs: performance.now() - started, stream: res.body } as RawResponse & { stream: AsyncIterable<Uint8Array> };
    }
    let text: string;
    try {
      text = await res.body.text();
    } catch (e) {
      if (isAbort(e, spec.signal)) throw e;
      throw new NomadConnectionError(spec.method, spec.path, e);
    }
    const requestTimeMs = performance.now() - started;
    if (!expected.includes(res.statusCode)) {
      throw new NomadUnexpectedResponseError({ status: res.statusCode, body: text, method: spec.method, path: spec.path, expectedStatuses: expected });
    }
    return { status: res.statusCode, headers: res.headers, text, requestTimeMs };
  }

  private async withRetry<T>(spec: RequestSpec, run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (e) {
        if (attempt >= this.retry.maxAttempts || !isNomadRetryable(e) || spec.signal?.aborted) throw e;
        await sleep(backoffDelay(attempt, this.retry), spec.signal);
      }
    }
  }

  private decode<T>(spec: RequestSpec, raw: RawResponse): T {
    if (raw.text.trim() === '') return undefined as T;
    try {
      return JSON.parse(raw.text) as T;
    } catch {
      throw new NomadStreamError(`Nomad ${spec.method} ${spec.path}: malformed JSON in a ${raw.status} response`);
    }
  }

  /** query performs an idempotent GET with QueryOptions, retrying outages; resolves to the body and QueryMeta. */
  async query<T>(path: string, opts: QueryOptions = {}, params: Params = {}, expected: readonly number[] = [200]): Promise<QueryResult<T>> {
    const spec: RequestSpec = {
      method: 'GET',
      path,
      expected,
      namespace: opts.namespace,
      region: opts.region,
      authToken: opts.authToken,
      signal: opts.signal,
      waitMs: opts.index ? (opts.wait ?? 300_000) : 0,
      params: {
        ...params,
        index: opts.index ? opts.index : undefined,
        wait: opts.wait !== undefined ? `${Math.floor(opts.wait)}ms` : undefined,
        stale: opts.stale ? '' : undefined,
        filter: opts.filter,
        per_page: opts.perPage,
        next_token: opts.nextToken,
        prefix: opts.prefix,
        reverse: opts.reverse,
      },
    };
    const raw = await this.withRetry(spec, () => this.once(spec));
    return { data: this.decode<T>(spec, raw), meta: parseQueryMeta(raw.headers, raw.requestTimeMs) };
  }

  /**
   * write performs a PUT/POST/DELETE, resolving to the body and WriteMeta. It is sent once — unless `dedupedByToken`
   * says the endpoint de-duplicates by WriteOptions.idempotencyToken (job dispatch) and a token is set: then a
   * connection error, 5xx or 429 is retried like a read, since Nomad returns the first result for a repeat.
   */
  async write<T>(method: 'PUT' | 'POST' | 'DELETE', path: string, body: unknown, opts: WriteOptions = {}, params: Params = {}, expected: readonly number[] = [200], dedupedByToken = false): Promise<WriteResult<T>> {
    const spec: RequestSpec = {
      method,
      path,
      body,
      expected,
      namespace: opts.namespace,
      region: opts.region,
      authToken: opts.authToken,
      signal: opts.signal,
      params: { ...params, idempotency_token: opts.idempotencyToken },
    };
    const raw = dedupedByToken && opts.idempotencyToken ? await this.withRetry(spec, () => this.once(spec)) : await this.once(spec);
    const meta = parseQueryMeta(raw.headers, raw.requestTimeMs);
    return { data: this.decode<T>(spec, raw), meta: { lastIndex: meta.lastIndex, requestTimeMs: raw.requestTimeMs } };
  }

  /**
   * stream opens a long-lived GET (logs, event stream). Opening it retries like a read; once the body flows, a
   * dropped connection — or no byte at all for idleTimeoutMs (0 = wait forever), which is how a silently dead
   * connection shows when Nomad sends heartbeats — surfaces as NomadConnectionError from the iterator; resuming is
   * the caller's choice.
   */
  async stream(path: string, opts: QueryOptions = {}, params: Params = {}, idleTimeoutMs = 0): Promise<NomadStreamResponse> {
    const spec: RequestSpec = {
      method: 'GET',
      path,
      expected: [200],
      namespace: opts.namespace,
      region: opts.region,
      authToken: opts.authToken,
      signal: opts.signal,
      stream: true,
      idleTimeoutMs,
      params: { index: opts.index ? opts.index : undefined, filter: opts.filter, ...params },
    };
    const raw = (await this.withRetry(spec, () => this.once(spec))) as RawResponse & { stream: AsyncIterable<Uint8Array> };
    const source = raw.stream;
    const wrapped = async function* (): AsyncGenerator<Uint8Array> {
      try {
        for await (const chunk of source) yield chunk;
      } catch (e) {
        if (isAbort(e, spec.signal)) throw e;
        throw new NomadConnectionError(spec.method, spec.path, e);
      }
    };
    return { body: wrapped(), meta: parseQueryMeta(raw.headers, raw.requestTimeMs) };
  }
}
