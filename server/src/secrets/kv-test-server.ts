/**
 * A small real-HTTP Vault KV v2 server for tests (Vault itself cannot be installed here): it answers the KV v2 data
 * and metadata endpoints of one mount like Vault does (check-and-set, versions, DELETE metadata), refuses a wrong
 * token with 403, and checks every request it receives against `vault-openapi.json` — a method and path Vault does
 * not document, or a write body of the wrong shape, is recorded in `violations`. `failWhen` injects 500s; `faults`
 * injects, at seeded random rates, Vault's outage answers (503, a sealed Vault's 503), slow answers, writes applied
 * whose answer is lost, and requests that time out. Reads take `?version=n`; the metadata endpoints read the version
 * history and set `max_versions`, and a write beyond it drops the oldest versions like Vault does (their slots
 * become null).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readContract } from '@drover/scheduler/contracts/index.ts';

/** KvRequest is one request the server received (the body is kept for assertions about what reached Vault). */
export interface KvRequest {
  /** method is the HTTP method. */
  method: string;
  /** path is the URL path. */
  path: string;
  /** body is the parsed JSON body, if any. */
  body: unknown;
  /** fault names the fault injected into this request (`error`, `sealed`, `slow`, `drop`, `timeout`), if any. */
  fault?: KvFault;
}

/** KvFault is one kind of injected fault. */
export type KvFault = 'error' | 'sealed' | 'slow' | 'drop' | 'timeout';

/**
 * KvFaults are the faults the server injects, each a fraction (0–1) of the requests they apply to, drawn from one
 * seeded generator (reproducible for a given request order). At most one fault hits a request.
 */
export interface KvFaults {
  /** errorRate answers 503 without applying the request (a Vault standby or overloaded node). */
  errorRate?: number;
  /** sealedRate answers 503 `Vault is sealed` without applying the request. */
  sealedRate?: number;
  /** slowRate delays the answer by slowMs (default 1 500 ms). */
  slowRate?: number;
  /** slowMs is the delay of a slow answer. */
  slowMs?: number;
  /** dropRate applies a write, then resets the connection: the answer is lost (reads are answered). */
  dropRate?: number;
  /** timeoutRate applies the request, then holds the answer for timeoutMs and resets the connection. */
  timeoutRate?: number;
  /** timeoutMs is how long a timed-out request is held (default 11 s: past the Vault adapter's 10 s timeout). */
  timeoutMs?: number;
  /** pathPrefix limits the faults to paths under the mount starting with it (e.g. `drover/t-`: job values only). */
  pathPrefix?: string;
  /** seed seeds the generator (default 1); setting faults restarts it. */
  seed?: number;
}

/** KvTestServer is a running fake. */
export interface KvTestServer {
  /** url is `http://127.0.0.1:<port>`. */
  url: string;
  /** token is the accepted X-Vault-Token. */
  token: string;
  /** data maps `<path under the mount>` to its versions (index 0 = version 1; null = deleted or dropped). */
  data: Map<string, (Record<string, string> | null)[]>;
  /** maxVersions maps a path to the `max_versions` set on its metadata (absent = the mount's default, unlimited here). */
  maxVersions: Map<string, number>;
  /** requests lists every request in order. */
  requests: KvRequest[];
  /** violations lists requests that vault-openapi.json does not document. */
  violations: string[];
  /** failWhen makes matching requests answer 500 (set to undefined to stop). */
  failWhen: ((r: KvRequest) => boolean) | undefined;
  /** setFaults replaces the injected faults (an empty object = none). */
  setFaults(faults: KvFaults): void;
  /** close stops the server. */
  close(): Promise<void>;
}

interface Spec {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
}

/** documented tells whether vault-openapi.json has `method` on a path of the KV v2 engine for `kind` (`data`…). */
function documented(spec: Spec, method: string, kind: string): boolean {
  const p = spec.paths[`/{kv_v2_mount_path}/${kind}/{path}`];
  return p !== undefined && method.toLowerCase() in p;
}

/** losing holds the responses whose answer is lost, with how long the connection is held before it resets. */
const losing = new WeakMap<ServerResponse, number>();

function send(res: ServerResponse, status: number, body?: unknown): void {
  const hold = losing.get(res);
  if (hold !== undefined) {
    setTimeout(() => res.socket?.destroy(), hold).unref();
    return;
  }
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  if (chunks.length === 0) return undefined;
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
}

/** startKvTestServer starts the fake with KV v2 mounted at `mount` (default `secret`). */
export async function startKvTestServer(mount = 'secret'): Promise<KvTestServer> {
  const spec = readContract('vault-openapi.json') as unknown as Spec;
  const writeProps = Object.keys(spec.components.schemas.KvV2WriteRequest?.properties ?? {});
  const metadataProps = Object.keys(spec.components.schemas.KvV2WriteMetadataRequest?.properties ?? {});
  const state: Omit<KvTestServer, 'url' | 'close'> = {
    token: `hvs.${randomBytes(12).toString('hex')}`, data: new Map(), maxVersions: new Map(), requests: [], violations: [], failWhen: undefined,
    setFaults(f) {
      faults = { ...f };
      rng = f.seed ?? 1;
    },
  };
  let faults: KvFaults = {};
  let rng = 1;
  // A linear congruential generator: the same seed and request order inject the same faults.
  const rand = () => { rng = (rng * 1103515245 + 12345) % 2 ** 31; return rng / 2 ** 31; };
  /** pick draws the fault of one request (at most one). */
  const pick = (r: KvRequest, path: string): KvFault | undefined => {
    if (faults.pathPrefix !== undefined && !path.startsWith(faults.pathPrefix)) return undefined;
    const x = rand();
    let at = 0;
    const write = r.method !== 'GET';
    for (const [fault, rate] of [['error', faults.errorRate], ['sealed', faults.sealedRate], ['slow', faults.slowRate], ['drop', write ? faults.dropRate : 0], ['timeout', faults.timeoutRate]] as const) {
      at += rate ?? 0;
      if (x < at) return fault;
    }
    return undefined;
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = await readBody(req);
      const r: KvRequest = { method: req.method ?? 'GET', path: url.pathname, body };
      state.requests.push(r);
      const m = new RegExp(`^/v1/${mount}/(data|metadata)/(.+)$`).exec(url.pathname);
      if (!m) {
        state.violations.push(`${r.method} ${r.path}: not a KV v2 path of mount ${mount}`);
        return send(res, 404, { errors: [] });
      }
      const [, kind, path] = m as unknown as [string, 'data' | 'metadata', string];
      if (!documented(spec, r.method, kind)) state.violations.push(`${r.method} /{kv_v2_mount_path}/${kind}/{path} is not in vault-openapi.json`);
      if (r.method === 'POST' && kind === 'data') {
        const b = body as Record<string, unknown> | undefined;
        const extra = Object.keys(b ?? {}).filter((k) => !writeProps.includes(k));
        if (!b || typeof b.data !== 'object' || extra.length > 0) state.violations.push(`POST data body does not match KvV2WriteRequest (${extra.join(',')})`);
      }
      if (r.method === 'POST' && kind === 'metadata') {
        const b = body as Record<string, unknown> | undefined;
        const extra = Object.keys(b ?? {}).filter((k) => !metadataProps.includes(k));
        if (!b || extra.length > 0) state.violations.push(`POST metadata body does not match KvV2WriteMetadataRequest (${extra.join(',')})`);
      }
      if (req.headers['x-vault-token'] !== state.token) return send(res, 403, { errors: ['permission denied'] });
      if (state.failWhen?.(r)) return send(res, 500, { errors: ['injected failure'] });
      const fault = pick(r, path);
      if (fault) r.fault = fault;
      if (fault === 'error') return send(res, 503, { errors: ['injected: Vault is unavailable'] });
      if (fault === 'sealed') return send(res, 503, { errors: ['Vault is sealed'] });
      if (fault === 'slow') await new Promise((w) => setTimeout(w, faults.slowMs ?? 1_500));
      // Applied, then the answer is lost: the connection resets at once, or after the client gave up waiting.
      if (fault === 'drop' || fault === 'timeout') losing.set(res, fault === 'timeout' ? faults.timeoutMs ?? 11_000 : 0);
      const versions = state.data.get(path) ?? [];
      const meta = (v: number) => ({ version: v, created_time: new Date(0).toISOString(), deletion_time: '', destroyed: false, custom_metadata: null });
      if (kind === 'data' && r.method === 'GET') {
        const asked = url.searchParams.get('version');
        const v = asked === null || asked === '0' ? versions.length : Number(asked);
        const found = Number.isInteger(v) && v >= 1 ? versions[v - 1] : undefined;
        if (!found) return send(res, 404, { errors: [] });
        return send(res, 200, { request_id: 'r', lease_id: '', renewable: false, lease_duration: 0, data: { data: found, metadata: meta(v) } });
      }
      if (kind === 'metadata' && r.method === 'GET') {
        if (versions.length === 0 && !state.maxVersions.has(path)) return send(res, 404, { errors: [] });
        const kept = versions.flatMap((x, i) => (x ? [i + 1] : []));
        return send(res, 200, {
          request_id: 'r', lease_id: '', renewable: false, lease_duration: 0,
          data: {
            current_version: versions.length, oldest_version: kept[0] ?? 0, max_versions: state.maxVersions.get(path) ?? 0, cas_required: false,
            versions: Object.fromEntries(kept.map((v) => [String(v), { created_time: new Date(0).toISOString(), deletion_time: '', destroyed: false }])),
          },
        });
      }
      if (kind === 'metadata' && r.method === 'POST') {
        const b = body as { max_versions?: number };
        if (b.max_versions !== undefined) state.maxVersions.set(path, b.max_versions);
        return send(res, 204);
      }
      if (kind === 'data' && r.method === 'POST') {
        const b = body as { data: Record<string, string>; options?: { cas?: number } };
        if (b.options?.cas !== undefined && b.options.cas !== versions.length) {
          return send(res, 400, { errors: ['check-and-set parameter did not match the current version'] });
        }
        versions.push({ ...b.data });
        // Like Vault: past max_versions the oldest versions are dropped.
        const max = state.maxVersions.get(path) ?? 0;
        if (max > 0) for (let i = 0; i < versions.length - max; i++) versions[i] = null;
        state.data.set(path, versions);
        return send(res, 200, { data: meta(versions.length) });
      }
      if (kind === 'metadata' && r.method === 'DELETE') {
        state.data.delete(path);
        state.maxVersions.delete(path);
        return send(res, 204);
      }
      return send(res, 405, { errors: [] });
    })().catch(() => send(res, 500, { errors: ['test server error'] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const out = state as KvTestServer;
  out.url = `http://127.0.0.1:${port}`;
  out.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return out;
}

/** currentValues returns the latest data of every path (what Vault holds now). */
export function currentValues(s: KvTestServer): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  for (const [k, v] of s.data) {
    const last = v.at(-1);
    if (last) out.set(k, last);
  }
  return out;
}
