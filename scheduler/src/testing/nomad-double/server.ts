/**
 * The Nomad double's HTTP server: Nomad's HTTP API paths, query parameters, headers and JSON shapes over a real
 * socket, backed by NomadState. Every request body is validated against the contract (a body the schema rejects
 * gets a 400 naming the key), registrations also against Nomad's ported job validation; reads support blocking
 * queries (`index` + `wait`) and carry X-Nomad-Index/KnownLeader/LastContact; the token, faults (503s, slow
 * responses, leader loss, dropped responses, index reset) and scenarios are controlled through `/__double/*`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { validateNomad } from '../../contracts/index.ts';
import { canonicalizeJob, jobWarnings, validateHostVolumeCreate, validateHostVolumeUpdate, validateJob, validateJobUpdate } from '../../nomad-validate/index.ts';
import { compileFilter } from './filter.ts';
import { diffJobs } from './diff.ts';
import { isScenario, SCENARIOS } from './scenarios.ts';
import { DoubleError, NomadState, type Obj, type StreamEvent, type Table } from './state.ts';

/** Faults are the failures the double injects into `/v1/*` requests. */
export interface Faults {
  /** errorRate is the fraction (0–1) of requests answered 503 without being applied. */
  errorRate?: number;
  /** slowRate is the fraction of requests delayed by slowMs before being handled. */
  slowRate?: number;
  /** slowMs is the delay of a slow request. */
  slowMs?: number;
  /** leaderLoss answers every request 500 "No cluster leader" with X-Nomad-KnownLeader false. */
  leaderLoss?: boolean;
  /** dropRate is the fraction of writes applied whose response is lost (the connection is reset). */
  dropRate?: number;
  /** pathPrefix limits the faults to paths starting with it (default: every /v1/ path). */
  pathPrefix?: string;
}

/** RecordedCall is one request the double received (for assertions such as "registered once"). */
export interface RecordedCall { method: string; path: string; query: string; body: unknown; status: number; at: number }

/** ServerOptions configure the HTTP layer. */
export interface ServerOptions {
  /** token, when set, is required in X-Nomad-Token (or `Authorization: Bearer`) on every /v1 request except status. */
  token?: string;
  /** logHeartbeatMs is the interval of `{}` heartbeats on followed log streams (default 1000). */
  logHeartbeatMs?: number;
  /** eventHeartbeatMs is the interval of `{}` heartbeats on the event stream (default 10 000, as Nomad). */
  eventHeartbeatMs?: number;
  /** seed makes fault injection reproducible. */
  seed?: number;
  /** maxRecorded bounds the recorded calls kept (default 100 000). */
  maxRecorded?: number;
}

const REGION = 'global';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** parseWait parses Nomad's `wait` parameter (`5s`, `100ms`, `1m`, or bare seconds) into milliseconds. */
export function parseWait(v: string | null): number | undefined {
  if (!v) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new DoubleError(400, `Invalid wait time: ${v}`);
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  return n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000);
}

function multiError(messages: string[]): string {
  return `${messages.length} error${messages.length === 1 ? '' : 's'} occurred:\n${messages.map((m) => `\t* ${m}`).join('\n')}\n\n`;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);

interface Ctx { req: IncomingMessage; res: ServerResponse; method: string; path: string; q: URLSearchParams; ns: string; body: unknown; parts: string[] }
interface ReadResult { body: unknown; index: number; status?: number }

/** NomadDoubleServer serves the Nomad API for one NomadState. */
export class NomadDoubleServer {
  readonly state: NomadState;
  readonly server: Server;
  faults: Faults = {};
  /** calls records the requests received (bounded). */
  readonly calls: RecordedCall[] = [];
  private readonly opts: ServerOptions;
  private readonly rand: () => number;
  private readonly streams = new Set<ServerResponse>();

  constructor(state: NomadState, opts: ServerOptions = {}) {
    this.state = state;
    this.opts = opts;
    this.rand = opts.seed === undefined ? Math.random : mulberry32(opts.seed);
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    this.server.keepAliveTimeout = 5000;
  }

  /** listen starts the server on host:port (port 0 = any free port) and returns its URL. */
  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}`;
  }

  /** close ends open streams and connections and stops the server. */
  async close(): Promise<void> {
    for (const s of this.streams) s.destroy();
    this.streams.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private readonly dropping = new WeakSet<ServerResponse>();

  private send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    if (this.dropping.has(res) && status < 400) {
      // The write was applied; its answer is lost (the connection resets), as when a proxy or network fails.
      res.socket?.destroy();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private metaHeaders(index: number): Record<string, string> {
    return { 'X-Nomad-Index': String(index), 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '0' };
  }

  private record(call: RecordedCall): void {
    this.calls.push(call);
    const max = this.opts.maxRecorded ?? 100_000;
    if (this.calls.length > max) this.calls.splice(0, this.calls.length - max);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://double');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    const call: RecordedCall = { method, path: url.pathname, query: url.search, body: undefined, status: 0, at: Date.now() };
    res.on('finish', () => { call.status = res.statusCode; });
    try {
      if (raw.trim() !== '') {
        try {
          body = JSON.parse(raw);
        } catch (e) {
          throw new DoubleError(400, `Failed to decode request body: ${(e as Error).message}`);
        }
      }
      call.body = body;
      if (url.pathname.startsWith('/__double/')) {
        this.send(res, 200, this.control(method, url.pathname, body));
        return;
      }
      this.record(call);
      if (!url.pathname.startsWith('/v1/')) throw new DoubleError(404, 'Invalid URL path');
      const f = this.faults;
      const applies = !f.pathPrefix || url.pathname.startsWith(f.pathPrefix);
      if (applies && f.slowMs && this.rand() < (f.slowRate ?? 1)) await new Promise((r) => setTimeout(r, f.slowMs));
      if (applies && f.leaderLoss) {
        this.send(res, 500, 'No cluster leader', { 'X-Nomad-KnownLeader': 'false', 'X-Nomad-LastContact': '0' });
        return;
      }
      if (applies && f.errorRate && this.rand() < f.errorRate) {
        this.send(res, 503, 'Service Unavailable');
        return;
      }
      if (this.opts.token && !url.pathname.startsWith('/v1/status/')) {
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const token = (req.headers['x-nomad-token'] as string | undefined) ?? bearer ?? url.searchParams.get('token') ?? '';
        if (token !== this.opts.token) throw new DoubleError(403, 'Permission denied');
      }
      const region = url.searchParams.get('region');
      if (region && region !== REGION) throw new DoubleError(500, 'No path to region');
      const ctx: Ctx = { req, res, method, path: url.pathname, q: url.searchParams, ns: url.searchParams.get('namespace') || 'default', body, parts: url.pathname.slice(4).split('/').map((p) => decodeURIComponent(p)) };
      if (applies && method !== 'GET' && f.dropRate !== undefined && this.rand() < f.dropRate) this.dropping.add(res);
      await this.route(ctx);
    } catch (e) {
      if (e instanceof DoubleError) {
        this.send(res, e.status, e.body !== undefined ? e.body : e.message, e.status === 409 ? this.metaHeaders(this.state.index) : {});
      } else {
        this.send(res, 500, `internal error: ${(e as Error).message}`);
      }
    }
  }

  // ----- control API -----

  private control(method: string, path: string, body: unknown): unknown {
    const b = isObj(body) ? body : {};
    if (path === '/__double/scenario' && method === 'POST') {
      const scenario = str(b.scenario);
      if (!isScenario(scenario)) throw new DoubleError(400, `unknown scenario "${scenario}"; one of ${SCENARIOS.join(', ')}`);
      const jobId = str(b.jobId);
      if (jobId === '') throw new DoubleError(400, 'jobId is required');
      this.state.scenarios.set(b.namespace ? `${str(b.namespace)}\u0000${jobId}` : jobId, scenario);
      return { ok: true };
    }
    if (path === '/__double/faults' && method === 'POST') {
      const { indexReset, ...rest } = b;
      this.faults = rest as Faults;
      if (indexReset === true) this.state.resetIndex();
      return { ok: true, faults: this.faults };
    }
    if (path === '/__double/volume-deletes' && method === 'GET') return this.state.volumeDeletes;
    if (path === '/__double/requests' && method === 'GET') return this.calls;
    if (path === '/__double/logs' && method === 'POST') {
      const a = this.state.allocs.get(str(b.allocId));
      if (!a) throw new DoubleError(404, 'unknown allocation');
      this.state.appendLog(a, str(b.task), b.type === 'stderr' ? 'stderr' : 'stdout', str(b.text));
      return { ok: true };
    }
    throw new DoubleError(404, `unknown control endpoint ${method} ${path}`);
  }

  // ----- helpers -----

  private checkBody(def: string, body: unknown, required = true): Obj {
    if (body === undefined) {
      if (required) throw new DoubleError(400, 'Request body is required');
      return {};
    }
    const v = validateNomad(def, body);
    if (v.length > 0) throw new DoubleError(400, `Request body does not match Nomad's ${def}: ${v.map((x) => `${x.path}: ${x.message}`).join('; ')}`);
    if (!isObj(body)) throw new DoubleError(400, 'Request body must be a JSON object');
    return body;
  }

  private async read(ctx: Ctx, compute: () => ReadResult, tables?: Table[]): Promise<void> {
    const minIndex = Number(ctx.q.get('index') ?? '0') || 0;
    const waitMs = Math.min(parseWait(ctx.q.get('wait')) ?? 300_000, 600_000);
    // A missing object is a 404 that still carries the query meta, and a blocking read on it waits like any other.
    const attempt = (): ReadResult => {
      try {
        return compute();
      } catch (e) {
        if (e instanceof DoubleError && e.status === 404) return { status: 404, body: e.message, index: tables ? this.state.tableIndex(...tables) : this.state.index };
        throw e;
      }
    };
    let r = attempt();
    if (minIndex > 0 && r.index <= minIndex && minIndex <= this.state.index) {
      const deadline = Date.now() + waitMs;
      while (r.index <= minIndex && Date.now() < deadline && !ctx.res.destroyed) {
        await new Promise<void>((resolve) => {
          const seen = tables ? this.state.tableIndex(...tables) : 0;
          const onChange = (): void => {
            // Only wake for the tables this read depends on (a changed table may still leave r.index unchanged).
            if (!tables || this.state.tableIndex(...tables) > seen || this.state.index < seen) done();
          };
          const done = (): void => {
            clearTimeout(timer);
            this.state.emitter.off('change', onChange);
            ctx.req.off('close', done);
            resolve();
          };
          const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
          this.state.emitter.on('change', onChange);
          ctx.req.on('close', done);
        });
        r = attempt();
      }
    }
    this.send(ctx.res, r.status ?? 200, r.body, this.metaHeaders(r.index));
  }

  private write(ctx: Ctx, result: Obj, status = 200): void {
    const { Index, ...rest } = result;
    this.send(ctx.res, status, rest, this.metaHeaders(num(Index, this.state.index)));
  }

  private filterList<T extends Obj>(ctx: Ctx, list: T[], idField = 'ID'): T[] {
    const prefix = ctx.q.get('prefix');
    let out = prefix ? list.filter((x) => str(x[idField]).startsWith(prefix)) : list;
    const filter = ctx.q.get('filter');
    if (filter) {
      let fn;
      try {
        fn = compileFilter(filter);
      } catch (e) {
        throw new DoubleError(400, `failed to read filter expression: ${(e as Error).message}`);
      }
      out = out.filter((x) => fn(x));
    }
    const perPage = Number(ctx.q.get('per_page') ?? '0');
    const next = ctx.q.get('next_token');
    if (next) {
      const i = out.findIndex((x) => str(x[idField]) >= next);
      out = i < 0 ? [] : out.slice(i);
    }
    if (perPage > 0 && out.length > perPage) {
      const nextItem = out[perPage];
      ctx.res.setHeader('X-Nomad-NextToken', str(nextItem?.[idField]));
      out = out.slice(0, perPage);
    }
    return out;
  }

  private inNs(ctx: Ctx, ns: unknown): boolean {
    return ctx.ns === '*' || ns === ctx.ns;
  }

  private jobOr404(ns: string, id: string): Obj {
    const job = this.state.currentJob(ns, id);
    if (!job) throw new DoubleError(404, 'job not found');
    return job;
  }

  private allocOr404(id: string): ReturnType<NomadState['allocs']['get']> & object {
    const a = this.state.allocs.get(id) ?? [...this.state.allocs.values()].find((x) => id.length >= 8 && str(x.alloc.ID).startsWith(id));
    if (!a) throw new DoubleError(404, `alloc not found`);
    return a;
  }

  // ----- routing -----

  private async route(ctx: Ctx): Promise<void> {
    const { method, parts } = ctx;
    const [head, ...rest] = parts;
    const isWrite = method === 'PUT' || method === 'POST';
    switch (head) {
      case 'jobs':
        if (rest.length === 0 && isWrite) return this.registerJob(ctx, undefined);
        if (rest.length === 0 && method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, [...this.state.jobs.values()].map((e) => e.versions[e.versions.length - 1]).filter((j): j is Obj => !!j && this.inNs(ctx, j.Namespace)).sort((a, b) => str(a.ID).localeCompare(str(b.ID))).map((j) => this.state.jobStub(j))), index: this.state.tableIndex('jobs', 'summary') }));
        break;
      case 'job':
        return this.jobRoutes(ctx, rest);
      case 'validate':
        if (rest[0] === 'job' && isWrite) return this.validateJobEndpoint(ctx);
        break;
      case 'evaluation': {
        const [id = '', sub] = rest;
        if (method !== 'GET') break;
        if (sub === 'allocations') return this.read(ctx, () => ({ body: [...this.state.allocs.values()].filter((a) => a.alloc.EvalID === id).map((a) => this.state.allocStub(a)), index: this.state.tableIndex('allocs') }));
        return this.read(ctx, () => {
          const ev = this.state.evals.get(id);
          if (!ev) throw new DoubleError(404, 'eval not found');
          const out = { ...ev };
          if (ctx.q.get('related') === 'true') out.RelatedEvals = [...this.state.evals.values()].filter((e) => e.JobID === ev.JobID && e.Namespace === ev.Namespace && e.ID !== ev.ID).map((e) => ({ ID: e.ID, Namespace: e.Namespace, Priority: e.Priority, Type: e.Type, TriggeredBy: e.TriggeredBy, JobID: e.JobID, NodeID: e.NodeID, DeploymentID: e.DeploymentID, Status: e.Status, StatusDescription: e.StatusDescription, WaitUntil: e.WaitUntil, NextEval: e.NextEval, PreviousEval: e.PreviousEval, BlockedEval: e.BlockedEval, CreateIndex: e.CreateIndex, ModifyIndex: e.ModifyIndex, CreateTime: e.CreateTime, ModifyTime: e.ModifyTime }));
          return { body: out, index: num(ev.ModifyIndex) };
        }, ['evals']);
      }
      case 'evaluations':
        if (method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, [...this.state.evals.values()].filter((e) => this.inNs(ctx, e.Namespace))), index: this.state.tableIndex('evals') }));
        break;
      case 'deployment':
        return this.deploymentRoutes(ctx, rest);
      case 'deployments':
        if (method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, [...this.state.deployments.values()].filter((d) => this.inNs(ctx, d.Namespace))), index: this.state.tableIndex('deployment') }));
        break;
      case 'allocation': {
        const [id = '', sub] = rest;
        if (method === 'GET' && !sub) return this.read(ctx, () => {
          const a = this.allocOr404(id);
          return { body: a.alloc, index: num(a.alloc.ModifyIndex) };
        }, ['allocs']);
        if (sub === 'stop' && isWrite) {
          const a = this.allocOr404(id);
          return this.write(ctx, this.state.stopAllocAndReplace(a));
        }
        break;
      }
      case 'allocations':
        if (method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, [...this.state.allocs.values()].filter((a) => this.inNs(ctx, a.alloc.Namespace)).map((a) => this.state.allocStub(a, ctx.q.get('task_states') !== 'false'))), index: this.state.tableIndex('allocs') }));
        break;
      case 'client':
        return this.clientRoutes(ctx, rest);
      case 'event':
        if (rest[0] === 'stream' && method === 'GET') return this.eventStream(ctx);
        break;
      case 'nodes':
        if (method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, this.state.nodes.map((n) => this.state.nodeStub(n))), index: this.state.tableIndex('nodes') }));
        break;
      case 'node':
        if (method === 'GET' && rest[0]) {
          const n = this.state.nodes.find((x) => x.ID === rest[0] || str(x.ID).startsWith(rest[0] ?? '\u0000'));
          if (!n) throw new DoubleError(404, 'node not found');
          if (rest[1] === 'allocations') return this.read(ctx, () => ({ body: [...this.state.allocs.values()].filter((a) => a.alloc.NodeID === n.ID).map((a) => a.alloc), index: this.state.tableIndex('allocs') }));
          return this.read(ctx, () => ({ body: n, index: num(n.ModifyIndex) }));
        }
        break;
      case 'volume':
        return this.volumeRoutes(ctx, rest);
      case 'volumes':
        if (method === 'GET') {
          const type = ctx.q.get('type') ?? '';
          if (type !== 'host' && type !== 'csi') throw new DoubleError(400, `unsupported volume type "${type}"`);
          return this.read(ctx, () => ({ body: type === 'csi' ? [] : this.filterList(ctx, [...this.state.volumes.values()].filter((v) => this.inNs(ctx, v.Namespace) && (!ctx.q.get('node_id') || v.NodeID === ctx.q.get('node_id')) && (!ctx.q.get('node_pool') || v.NodePool === ctx.q.get('node_pool'))).map((v) => volumeStub(v))), index: this.state.tableIndex('volumes') }));
        }
        break;
      case 'var':
        return this.varRoutes(ctx, rest.join('/'));
      case 'vars':
        if (method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, [...this.state.vars.values()].filter((v) => this.inNs(ctx, v.Namespace)).map(({ Items: _items, ...meta }) => meta), 'Path'), index: this.state.tableIndex('vars') }));
        break;
      case 'namespaces':
        if (method === 'GET') return this.read(ctx, () => ({ body: this.filterList(ctx, [...this.state.namespaces.values()], 'Name'), index: this.state.tableIndex('namespaces') }));
        break;
      case 'namespace':
        return this.namespaceRoutes(ctx, rest[0]);
      case 'acl':
        return this.aclRoutes(ctx, rest);
      case 'status':
        if (rest[0] === 'leader' && method === 'GET') return this.send(ctx.res, 200, JSON.stringify('127.0.0.1:4647'), { 'Content-Type': 'application/json' });
        if (rest[0] === 'peers' && method === 'GET') return this.send(ctx.res, 200, JSON.stringify(['127.0.0.1:4647']), { 'Content-Type': 'application/json' });
        break;
      case 'agent':
        if (rest[0] === 'self' && method === 'GET') return this.send(ctx.res, 200, agentSelf());
        break;
      case 'operator':
        if (rest[0] === 'scheduler' && rest[1] === 'configuration' && method === 'GET') {
          return this.send(ctx.res, 200, { SchedulerConfig: { SchedulerAlgorithm: 'binpack', MemoryOversubscriptionEnabled: this.state.memoryOversubscription, RejectJobRegistration: false, PauseEvalBroker: false, PreemptionConfig: { SystemSchedulerEnabled: true, SysBatchSchedulerEnabled: false, BatchSchedulerEnabled: false, ServiceSchedulerEnabled: false }, CreateIndex: 1, ModifyIndex: 1 }, Index: 1, KnownLeader: true, LastContact: 0 }, this.metaHeaders(1));
        }
        break;
      default:
        break;
    }
    throw new DoubleError(404, 'Invalid URL path');
  }

  // ----- jobs -----

  private validateRegistration(job: Obj, existing: Obj | undefined): Obj {
    // The request body already passed the contract (checkBody): run Nomad's rules only.
    const errors = validateJob(job, { schema: false });
    if (errors.length > 0) {
      throw new DoubleError(400, multiError(errors.map((e) => (e.message.startsWith('unknown key') ? `${e.path}: ${e.message}` : e.message))));
    }
    const canonical = canonicalizeJob(job) as Obj;
    const update = validateJobUpdate(existing, canonical);
    if (update.length > 0) throw new DoubleError(500, update.map((e) => e.message).join('; '));
    return canonical;
  }

  private registerJob(ctx: Ctx, pathId: string | undefined): void {
    const body = this.checkBody('JobRegisterRequest', ctx.body);
    const job = body.Job;
    if (!isObj(job)) throw new DoubleError(400, 'Job must be specified');
    if (pathId !== undefined && job.ID !== pathId) throw new DoubleError(400, 'Job ID does not match name');
    if (!job.Namespace) job.Namespace = ctx.q.get('namespace') || str(body.Namespace) || 'default';
    const ns = str(job.Namespace);
    const existing = this.state.currentJob(ns, str(job.ID));
    const canonical = this.validateRegistration(job, existing);
    const warnings = jobWarnings(canonical, { memoryOversubscription: this.state.memoryOversubscription });
    const r = this.state.register(canonical, { enforceIndex: body.EnforceIndex === true, jobModifyIndex: num(body.JobModifyIndex), submission: isObj(body.Submission) ? body.Submission : null, preserveCounts: body.PreserveCounts === true });
    this.write(ctx, { ...r, Warnings: warnings.length ? multiError(warnings) : '' });
  }

  private validateJobEndpoint(ctx: Ctx): void {
    const body = this.checkBody('JobValidateRequest', ctx.body);
    if (!isObj(body.Job)) throw new DoubleError(400, 'Job must be specified');
    const errors = validateJob(body.Job);
    const msgs = errors.map((e) => (e.message.startsWith('unknown key') ? `${e.path}: ${e.message}` : e.message));
    const warnings = errors.length === 0 ? jobWarnings(body.Job, { memoryOversubscription: this.state.memoryOversubscription }) : [];
    this.send(ctx.res, 200, { DriverConfigValidated: true, ValidationErrors: msgs.length ? msgs : null, Error: msgs.length ? multiError(msgs) : '', Warnings: warnings.length ? multiError(warnings) : '' });
  }

  private async jobRoutes(ctx: Ctx, rest: string[]): Promise<void> {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    // Job IDs may contain '/' (periodic and dispatched children): the action is the known suffix.
    const actions = ['plan', 'versions', 'revert', 'scale', 'dispatch', 'summary', 'allocations', 'evaluations', 'deployments', 'deployment', 'submission', 'stable'];
    let action = '';
    let idParts = rest;
    if (rest.length >= 3 && rest[rest.length - 2] === 'periodic' && rest[rest.length - 1] === 'force') {
      action = 'periodic/force';
      idParts = rest.slice(0, -2);
    } else if (rest.length >= 2 && actions.includes(rest[rest.length - 1] ?? '')) {
      action = rest[rest.length - 1] ?? '';
      idParts = rest.slice(0, -1);
    }
    const id = idParts.join('/');
    if (id === '') throw new DoubleError(400, 'Missing job ID');
    const ns = ctx.ns;
    switch (action) {
      case '':
        if (method === 'GET') return this.read(ctx, () => {
          const job = this.jobOr404(ns, id);
          return { body: job, index: num(job.ModifyIndex) };
        }, ['jobs']);
        if (isWrite) return this.registerJob(ctx, id);
        if (method === 'DELETE') {
          const purge = ctx.q.get('purge') === 'true';
          return this.write(ctx, this.state.deregister(ns, id, purge));
        }
        break;
      case 'plan': {
        if (!isWrite) break;
        const body = this.checkBody('JobPlanRequest', ctx.body);
        const job = body.Job;
        if (!isObj(job)) throw new DoubleError(400, 'Job must be specified');
        if (job.ID !== id) throw new DoubleError(400, 'Job ID does not match');
        if (!job.Namespace) job.Namespace = ns;
        const existing = this.state.currentJob(str(job.Namespace), id);
        const canonical = this.validateRegistration(job, existing);
        const annotations = this.state.desiredUpdates(existing, canonical);
        const updates: Record<string, Record<string, number>> = {};
        for (const [g, u] of Object.entries(annotations)) {
          const m: Record<string, number> = {};
          const names: Record<string, string> = { Place: 'create', Stop: 'destroy', Ignore: 'ignore', InPlaceUpdate: 'in-place update', DestructiveUpdate: 'create/destroy update', Canary: 'canary', Migrate: 'migrate' };
          for (const [k, label] of Object.entries(names)) if (num(u[k]) > 0) m[label] = num(u[k]);
          updates[g] = m;
        }
        const warnings = jobWarnings(canonical, { memoryOversubscription: this.state.memoryOversubscription });
        return this.send(ctx.res, 200, {
          Annotations: { DesiredTGUpdates: annotations, PreemptedAllocs: null },
          Diff: body.Diff === true ? diffJobs(existing, canonical, updates) : null,
          FailedTGAllocs: this.state.planFailures(canonical), JobModifyIndex: num(existing?.JobModifyIndex), CreatedEvals: null,
          NextPeriodicLaunch: this.state.nextPeriodicLaunch(canonical), Warnings: warnings.length ? multiError(warnings) : '',
        }, this.metaHeaders(this.state.index));
      }
      case 'versions':
        if (method !== 'GET') break;
        return this.read(ctx, () => {
          const entry = this.state.jobEntry(ns, id);
          if (!entry) throw new DoubleError(404, 'job versions not found');
          const versions = [...entry.versions].reverse();
          const diffs = ctx.q.get('diffs') === 'true' ? versions.slice(0, -1).map((v, i) => diffJobs(versions[i + 1], v)) : null;
          return { body: { Versions: versions, Diffs: diffs }, index: num(this.state.currentJob(ns, id)?.ModifyIndex) };
        });
      case 'submission':
        if (method !== 'GET') break;
        return this.read(ctx, () => {
          const entry = this.state.jobEntry(ns, id);
          if (!entry) throw new DoubleError(404, 'job source not found');
          const version = Number(ctx.q.get('version') ?? entry.versions[entry.versions.length - 1]?.Version ?? 0);
          const sub = entry.submissions.get(version);
          if (!sub) throw new DoubleError(404, 'job source not found');
          return { body: sub, index: this.state.tableIndex('jobs') };
        });
      case 'revert': {
        if (!isWrite) break;
        const body = this.checkBody('JobRevertRequest', ctx.body);
        if (body.JobID !== undefined && body.JobID !== id) throw new DoubleError(400, 'Job ID does not match');
        const enforce = typeof body.EnforcePriorVersion === 'number' ? body.EnforcePriorVersion : undefined;
        return this.write(ctx, { ...this.state.revert(ns, id, num(body.JobVersion), enforce), Warnings: '' });
      }
      case 'scale': {
        if (method === 'GET') return this.read(ctx, () => {
          const job = this.jobOr404(ns, id);
          const entry = this.state.jobEntry(ns, id);
          const groups: Obj = {};
          const d = this.state.jobDeployments(ns, id)[0];
          for (const g of (job.TaskGroups as Obj[]) ?? []) {
            const name = str(g.Name);
            const live = this.state.liveAllocs(ns, id, name);
            const ds = d ? ((d.TaskGroups as Record<string, Obj>)[name] ?? {}) : {};
            groups[name] = { Desired: num(g.Count), Placed: live.length, Running: live.filter((a) => a.alloc.ClientStatus === 'running').length, Healthy: num(ds.HealthyAllocs), Unhealthy: num(ds.UnhealthyAllocs), Events: entry?.scaleEvents[name] ?? null };
          }
          return { body: { JobID: id, Namespace: ns, JobCreateIndex: job.CreateIndex, JobModifyIndex: job.JobModifyIndex, JobStopped: job.Stop === true, TaskGroups: groups }, index: num(job.ModifyIndex) };
        });
        if (!isWrite) break;
        const body = this.checkBody('ScalingRequest', ctx.body);
        const target = isObj(body.Target) ? (body.Target as Record<string, string>) : {};
        const group = target.Group ?? '';
        if (group === '') throw new DoubleError(400, 'missing task group name for scaling action');
        if (body.Count === null || body.Count === undefined) throw new DoubleError(400, 'scaling action count can\'t be empty');
        return this.write(ctx, { ...this.state.scale(ns, id, group, num(body.Count), str(body.Message), isObj(body.Meta) ? body.Meta : null), Warnings: '' });
      }
      case 'periodic/force':
        if (!isWrite) break;
        if (ctx.body !== undefined) this.checkBody('WriteRequest', ctx.body, false);
        {
          const { childId: _c, ...r } = this.state.forcePeriodic(ns, id);
          return this.write(ctx, r);
        }
      case 'dispatch': {
        if (!isWrite) break;
        const body = this.checkBody('JobDispatchRequest', ctx.body ?? {}, false);
        return this.write(ctx, this.state.dispatch(ns, id, body, ctx.q.get('idempotency_token') ?? ''));
      }
      case 'summary':
        if (method !== 'GET') break;
        return this.read(ctx, () => ({ body: this.state.jobSummary(this.jobOr404(ns, id)), index: this.state.tableIndex('summary') }), ['summary']);
      case 'allocations':
        if (method !== 'GET') break;
        return this.read(ctx, () => {
          this.jobOr404(ns, id);
          return { body: [...this.state.allocs.values()].filter((a) => a.alloc.Namespace === ns && a.alloc.JobID === id).sort((a, b) => num(b.alloc.CreateIndex) - num(a.alloc.CreateIndex)).map((a) => this.state.allocStub(a)), index: this.state.tableIndex('allocs') };
        }, ['allocs']);
      case 'evaluations':
        if (method !== 'GET') break;
        return this.read(ctx, () => ({ body: [...this.state.evals.values()].filter((e) => e.Namespace === ns && e.JobID === id).sort((a, b) => num(b.CreateIndex) - num(a.CreateIndex)), index: this.state.tableIndex('evals') }), ['evals']);
      case 'deployments':
        if (method !== 'GET') break;
        return this.read(ctx, () => ({ body: this.state.jobDeployments(ns, id), index: this.state.tableIndex('deployment') }), ['deployment']);
      case 'deployment':
        if (method !== 'GET') break;
        return this.read(ctx, () => ({ body: this.state.jobDeployments(ns, id)[0] ?? null, index: this.state.tableIndex('deployment') }), ['deployment']);
      default:
        break;
    }
    throw new DoubleError(405, 'Invalid method');
  }

  // ----- deployments -----

  private deploymentRoutes(ctx: Ctx, rest: string[]): Promise<void> | void {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    const [a = '', b = ''] = rest;
    const get = (id: string): Obj => {
      const d = this.state.deployments.get(id) ?? [...this.state.deployments.values()].find((x) => id.length >= 8 && str(x.ID).startsWith(id));
      if (!d) throw new DoubleError(404, 'deployment not found');
      return d;
    };
    if (a === 'allocations' && method === 'GET') return this.read(ctx, () => {
      const d = get(b);
      return { body: [...this.state.allocs.values()].filter((x) => x.alloc.DeploymentID === d.ID).map((x) => this.state.allocStub(x)), index: this.state.tableIndex('allocs') };
    });
    if (a === 'promote' && isWrite) {
      const body = this.checkBody('DeploymentPromoteRequest', ctx.body ?? { DeploymentID: b, All: true });
      const d = get(b);
      const groups = body.All === true || !Array.isArray(body.Groups) ? 'all' : (body.Groups as string[]);
      return this.write(ctx, this.state.promote(d, groups));
    }
    if (a === 'fail' && isWrite) {
      if (ctx.body !== undefined) this.checkBody('DeploymentFailRequest', ctx.body);
      const d = get(b);
      if (d.Status !== 'running' && d.Status !== 'paused') throw new DoubleError(500, `can't fail terminal deployment`);
      const r = this.state.failDeployment(d, 'Deployment marked as failed');
      return this.write(ctx, { EvalID: str(r.EvalID), EvalCreateIndex: num(r.EvalCreateIndex), DeploymentModifyIndex: r.DeploymentModifyIndex, ...(r.RevertedJobVersion !== undefined ? { RevertedJobVersion: r.RevertedJobVersion } : {}), Index: this.state.index });
    }
    if (method === 'GET' && a !== '' && b === '') return this.read(ctx, () => {
      const d = get(a);
      return { body: d, index: num(d.ModifyIndex) };
    }, ['deployment']);
    throw new DoubleError(404, 'Invalid URL path');
  }

  // ----- client: restart, stats, logs -----

  private async clientRoutes(ctx: Ctx, rest: string[]): Promise<void> {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    if (rest[0] === 'allocation' && rest[2] === 'restart' && isWrite) {
      const body = this.checkBody('AllocationRestartRequest', ctx.body ?? {}, false);
      const a = this.allocOr404(rest[1] ?? '');
      this.state.restartAlloc(a, str(body.TaskName), body.AllTasks === true);
      return this.send(ctx.res, 200, {}, this.metaHeaders(this.state.index));
    }
    if (rest[0] === 'allocation' && rest[2] === 'stats' && method === 'GET') {
      const a = this.allocOr404(rest[1] ?? '');
      if (a.alloc.ClientStatus !== 'running') throw new DoubleError(500, `alloc ${str(a.alloc.ID)} is not running`);
      return this.send(ctx.res, 200, allocStats(a.alloc, a.group));
    }
    if (rest[0] === 'fs' && rest[1] === 'logs' && method === 'GET') return this.logs(ctx, rest[2] ?? '');
    if (rest[0] === 'fs' && ['stat', 'ls', 'cat', 'readat'].includes(rest[1] ?? '') && method === 'GET') return this.fs(ctx, rest[1] ?? '', rest[2] ?? '');
    throw new DoubleError(404, 'Invalid URL path');
  }

  /** fsEntries lists the files of an allocation directory: the standard dirs, the logs, and files written by tests. */
  private fsEntries(a: ReturnType<NomadDoubleServer['allocOr404']>): Map<string, { data: Buffer; mtime: Date } | 'dir'> {
    const out = new Map<string, { data: Buffer; mtime: Date } | 'dir'>();
    for (const d of ['alloc', 'alloc/data', 'alloc/logs', 'alloc/tmp']) out.set(d, 'dir');
    for (const t of Object.keys(a.alloc.TaskStates as Obj)) for (const d of [t, `${t}/local`, `${t}/secrets`, `${t}/tmp`]) out.set(d, 'dir');
    for (const [k, lf] of a.logs) for (const [i, buf] of lf.files) out.set(`alloc/logs/${k}.${i}`, { data: buf, mtime: new Date() });
    for (const [k, f] of a.files) {
      const parts = k.split('/');
      for (let i = 1; i < parts.length; i++) out.set(parts.slice(0, i).join('/'), 'dir');
      out.set(k, f);
    }
    return out;
  }

  private fs(ctx: Ctx, op: string, allocId: string): void {
    const a = this.allocOr404(allocId);
    const raw = ctx.q.get('path') ?? '/';
    const path = raw.split('/').filter((p) => p !== '' && p !== '.').join('/');
    if (raw.split('/').includes('..')) throw new DoubleError(400, 'Path escapes the allocation directory');
    const entries = this.fsEntries(a);
    const info = (name: string, e: { data: Buffer; mtime: Date } | 'dir'): Obj => ({
      Name: name.split('/').pop() || '/', IsDir: e === 'dir', Size: e === 'dir' ? 4096 : e.data.length,
      FileMode: e === 'dir' ? 'drwxrwxrwx' : '-rw-r--r--', ModTime: (e === 'dir' ? new Date() : e.mtime).toISOString(), ContentType: e === 'dir' ? '' : 'application/octet-stream',
    });
    const entry = path === '' ? 'dir' : entries.get(path);
    const where = `/var/nomad/alloc/${str(a.alloc.ID)}/${path}`;
    if (!entry) throw new DoubleError(500, op === 'ls' ? `open ${where}: no such file or directory` : `stat ${where}: no such file or directory`);
    if (op === 'stat') return this.send(ctx.res, 200, info(path || '/', entry));
    if (op === 'ls') {
      if (entry !== 'dir') throw new DoubleError(500, `readdirent ${where}: not a directory`);
      const children = [...entries.entries()].filter(([k]) => (path === '' ? !k.includes('/') : k.startsWith(`${path}/`) && !k.slice(path.length + 1).includes('/')));
      return this.send(ctx.res, 200, children.map(([k, e]) => info(k, e)).sort((x, y) => str(x.Name).localeCompare(str(y.Name))));
    }
    if (entry === 'dir') throw new DoubleError(400, `file "${path}" is a directory`);
    let data = entry.data;
    if (op === 'readat') {
      const offset = Number(ctx.q.get('offset') ?? '0'), limit = Number(ctx.q.get('limit') ?? String(data.length));
      if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 0) throw new DoubleError(400, 'offset and limit must be non-negative integers');
      data = data.subarray(offset, offset + limit);
    }
    if (ctx.res.headersSent) return;
    ctx.res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': data.length });
    ctx.res.end(data);
  }

  private async logs(ctx: Ctx, allocId: string): Promise<void> {
    const a = this.allocOr404(allocId);
    const task = ctx.q.get('task') ?? '';
    const type = ctx.q.get('type') ?? '';
    if (task === '') throw new DoubleError(400, 'must include task name');
    if (type !== 'stdout' && type !== 'stderr') throw new DoubleError(400, 'must include type: stdout or stderr');
    if (!(task in (a.alloc.TaskStates as Obj))) throw new DoubleError(400, `unknown task name "${task}"`);
    const origin = ctx.q.get('origin') ?? 'start';
    if (origin !== 'start' && origin !== 'end') throw new DoubleError(400, 'origin must be start or end');
    const offsetParam = Number(ctx.q.get('offset') ?? '0');
    if (!Number.isInteger(offsetParam) || offsetParam < 0) throw new DoubleError(400, 'offset must be a non-negative integer');
    const follow = ctx.q.get('follow') === 'true';
    const plain = ctx.q.get('plain') === 'true';
    const k = `${task}.${type}`;
    // Tests may change the files right as a read arrives (e.g. a rotation between a listing and this read).
    this.state.emitter.emit('logs-request', { allocId: str(a.alloc.ID), task, type, follow });
    // Nomad's logsImpl: pick the file closest to the wanted index, with offset counted across the kept files
    // (origin=start from the oldest kept file, origin=end backwards from the newest), stream it from there, then go on
    // with the next index once it exists. Frames carry the file and the offset in THAT file after their data.
    const indexes = (): number[] => [...(a.logs.get(k)?.files.keys() ?? [])].sort((x, y) => x - y);
    const content = (i: number): Buffer | undefined => a.logs.get(k)?.files.get(i);
    const findClosest = (desiredIdx: number, desiredOffset: number): { idx: number; offset: number } | null => {
      const idxs = indexes();
      if (idxs.length === 0) return null;
      let i = idxs.findIndex((x) => x >= desiredIdx);
      if (i < 0) i = idxs.length - 1;
      let off = desiredOffset;
      for (;;) {
        const size = content(idxs[i] as number)?.length ?? 0;
        if (off === 0) break;
        if (off < 0) {
          if (size + off >= 0) { off = size + off; break; }
          if (i === 0) { off = 0; break; }
          off = size + off;
          i -= 1;
        } else {
          if (off <= size) break;
          if (i === idxs.length - 1) { off = size; break; }
          off -= size;
          i += 1;
        }
      }
      return { idx: idxs[i] as number, offset: off };
    };
    let nextIdx = origin === 'start' ? 0 : Number.MAX_SAFE_INTEGER;
    let want = origin === 'start' ? offsetParam : -offsetParam;
    const maxIndex = follow ? Number.MAX_SAFE_INTEGER : (indexes().at(-1) ?? 0);
    let cur: { idx: number; pos: number } | null = null;
    let finished = false;
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': plain ? 'text/plain; charset=utf-8' : 'application/json', ...this.metaHeaders(this.state.index) });
    this.streams.add(res);
    /** flush sends what can be read now; true once a non-followed read has reached its end. */
    const flush = (): boolean => {
      while (!finished) {
        if (!cur) {
          const f = findClosest(nextIdx, want);
          if (!f) return false;
          if (!follow && f.idx > maxIndex) return (finished = true);
          cur = { idx: f.idx, pos: f.offset };
        }
        const file = `alloc/logs/${k}.${cur.idx}`;
        const buf = content(cur.idx);
        if (!buf) {
          // Rotated out (deleted) under the reader: Nomad reports it and goes on with the next index.
          if (!plain) res.write(JSON.stringify({ Offset: cur.pos, File: file, FileEvent: 'file deleted' }));
          nextIdx = cur.idx + 1;
          want = 0;
          cur = null;
          continue;
        }
        if (buf.length < cur.pos) {
          // The file shrank: Nomad reports the truncation and restarts from 0.
          if (!plain) res.write(JSON.stringify({ Offset: 0, File: file, FileEvent: 'file truncated' }));
          cur.pos = 0;
        }
        while (cur.pos < buf.length) {
          const end = Math.min(buf.length, cur.pos + 32 * 1024);
          const chunk = buf.subarray(cur.pos, end);
          if (plain) res.write(chunk);
          else res.write(JSON.stringify({ Offset: end, Data: chunk.toString('base64'), File: file }));
          cur.pos = end;
        }
        if (!follow && cur.idx >= maxIndex) return (finished = true);
        const at = cur.idx;
        if (!indexes().some((i) => i > at)) return false;
        nextIdx = cur.idx + 1;
        want = 0;
        cur = null;
      }
      return true;
    };
    flush();
    const terminal = (): boolean => ['complete', 'failed', 'lost'].includes(str(a.alloc.ClientStatus));
    if (!follow || terminal()) {
      this.streams.delete(res);
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const onLog = (id: string, key: string): void => {
        if (id === a.alloc.ID && key === k) flush();
      };
      const onChange = (): void => {
        if (terminal()) {
          flush();
          done();
        }
      };
      const hb = setInterval(() => {
        if (!plain) res.write('{}');
      }, this.opts.logHeartbeatMs ?? 1000);
      const done = (): void => {
        clearInterval(hb);
        this.state.emitter.off('log', onLog);
        this.state.emitter.off('log-drop', done);
        this.state.emitter.off('change', onChange);
        this.state.emitter.off('close', done);
        this.streams.delete(res);
        if (!res.destroyed) res.end();
        resolve();
      };
      this.state.emitter.on('log', onLog);
      this.state.emitter.on('log-drop', done);
      this.state.emitter.on('change', onChange);
      this.state.emitter.on('close', done);
      ctx.req.on('close', done);
      res.on('close', done);
    });
  }

  // ----- event stream -----

  private async eventStream(ctx: Ctx): Promise<void> {
    const topics = new Map<string, string[]>();
    for (const t of ctx.q.getAll('topic')) {
      const [topic = '', k = '*'] = t.split(':');
      if (!['Job', 'Evaluation', 'Allocation', 'Deployment', 'Node', '*', 'Service', 'ACLToken', 'ACLPolicy', 'ACLRole', 'HostVolume'].includes(topic)) throw new DoubleError(400, `invalid topic "${topic}"`);
      topics.set(topic, [...(topics.get(topic) ?? []), k]);
    }
    const index = Number(ctx.q.get('index') ?? '0') || 0;
    const matches = (e: StreamEvent): boolean => {
      if (ctx.ns !== '*' && e.namespace !== ctx.ns) return false;
      if (topics.size === 0) return true;
      const keys = [...(topics.get(e.Topic) ?? []), ...(topics.get('*') ?? [])];
      return keys.some((k) => k === '*' || k === e.Key || (e.FilterKeys ?? []).includes(k));
    };
    const res = ctx.res;
    res.writeHead(200, { 'Content-Type': 'application/json', ...this.metaHeaders(this.state.index) });
    this.streams.add(res);
    const write = (batch: StreamEvent[]): void => {
      const byIndex = new Map<number, StreamEvent[]>();
      for (const e of batch) if (matches(e)) byIndex.set(e.Index, [...(byIndex.get(e.Index) ?? []), e]);
      for (const [i, evs] of byIndex) res.write(`{"Index":${i},"Events":[${evs.map((e) => e.json).join(',')}]}\n`);
    };
    write(this.state.events.filter((e) => e.Index > index));
    await new Promise<void>((resolve) => {
      const onEvent = (e: StreamEvent): void => write([e]);
      const hb = setInterval(() => res.write('{}\n'), this.opts.eventHeartbeatMs ?? 10_000);
      const done = (): void => {
        clearInterval(hb);
        this.state.emitter.off('event', onEvent);
        this.state.emitter.off('close', done);
        this.streams.delete(res);
        if (!res.destroyed) res.end();
        resolve();
      };
      this.state.emitter.on('event', onEvent);
      this.state.emitter.on('close', done);
      ctx.req.on('close', done);
      res.on('close', done);
    });
  }

  // ----- host volumes -----

  private volumeClaims(v: Obj): ReturnType<NomadDoubleServer['allocOr404']>[] {
    return [...this.state.allocs.values()].filter((x) => x.alloc.Namespace === v.Namespace && x.alloc.DesiredStatus === 'run' && !['complete', 'failed', 'lost'].includes(str(x.alloc.ClientStatus))
      && Object.values((x.group.Volumes as Obj | undefined) ?? {}).some((r) => isObj(r) && r.Type === 'host' && r.Source === v.Name));
  }

  private volumeRoutes(ctx: Ctx, rest: string[]): Promise<void> | void {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    if (rest[0] !== 'host') throw new DoubleError(404, 'Invalid URL path');
    if (rest[1] === 'create' && isWrite) {
      const errors = validateHostVolumeCreate(ctx.body);
      if (errors.length > 0) {
        const schema = validateNomad('HostVolumeCreateRequest', ctx.body).length > 0;
        throw new DoubleError(400, schema ? `Request body does not match Nomad's HostVolumeCreateRequest: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}` : multiError(errors.map((e) => e.message)));
      }
      const vol = (ctx.body as Obj).Volume as Obj;
      const ns = str(vol.Namespace) || ctx.ns;
      if (!this.state.namespaces.has(ns)) throw new DoubleError(400, `namespace "${ns}" does not exist`);
      const existing = this.state.findVolumeByName(ns, str(vol.Name));
      if (existing) {
        const claimedBy = this.volumeClaims(existing).map((x) => str(x.alloc.ID));
        const update = validateHostVolumeUpdate(vol, existing, claimedBy);
        if (update.length > 0) throw new DoubleError(400, multiError(update.map((e) => e.message)));
      }
      const node = vol.NodeID ? this.state.nodes.find((n) => n.ID === vol.NodeID) : this.state.nodes.filter((n) => !vol.NodePool || n.NodePool === vol.NodePool)[this.state.volumes.size % this.state.nodes.length];
      if (!node) throw new DoubleError(400, vol.NodeID ? `node "${str(vol.NodeID)}" does not exist` : `no node meets constraints: node pool "${str(vol.NodePool)}" has no nodes`);
      // What the node's plugin reports, as Nomad stores it: the built-in `mkdir` plugin answers `bytes: 0` (a plain
      // directory, no size enforced); an external plugin reports the size it made (the minimum requested, like the
      // ext4-on-loop example and drover-ext4), unless a test set what it reports with control.setVolumePluginCapacity.
      const plugin = str(vol.PluginID);
      const requested = num(vol.RequestedCapacityMinBytes) || num(vol.RequestedCapacityMaxBytes);
      const reported = this.state.volumePluginCapacity.get(plugin);
      const capacity = plugin === 'mkdir' ? 0 : reported === undefined ? requested : reported;
      const idx = this.state.bump('volumes');
      let out: Obj;
      if (existing) {
        Object.assign(existing, { RequestedCapacityMinBytes: vol.RequestedCapacityMinBytes ?? existing.RequestedCapacityMinBytes, RequestedCapacityMaxBytes: vol.RequestedCapacityMaxBytes ?? existing.RequestedCapacityMaxBytes, CapacityBytes: plugin === 'mkdir' ? 0 : capacity || existing.CapacityBytes, ModifyIndex: idx, ModifyTime: Date.now() * 1e6 });
        out = existing;
      } else {
        const id = crypto.randomUUID();
        out = {
          ID: id, Name: vol.Name, Namespace: ns, PluginID: str(vol.PluginID) || 'default', NodePool: str(node.NodePool), NodeID: node.ID, Constraints: vol.Constraints ?? null,
          RequestedCapacityMinBytes: num(vol.RequestedCapacityMinBytes), RequestedCapacityMaxBytes: num(vol.RequestedCapacityMaxBytes), Parameters: vol.Parameters ?? null,
          RequestedCapabilities: Array.isArray(vol.RequestedCapabilities) && vol.RequestedCapabilities.length > 0 ? vol.RequestedCapabilities : [{ AttachmentMode: 'file-system', AccessMode: 'single-node-writer' }],
          HostPath: `/opt/nomad/data/host_volumes/${id}`, State: 'ready', CapacityBytes: capacity, Allocations: null, CreateIndex: idx, ModifyIndex: idx, CreateTime: Date.now() * 1e6, ModifyTime: Date.now() * 1e6,
        };
        this.state.volumes.set(id, out);
      }
      this.state.publish('HostVolume', 'HostVolumeRegistered', str(out.ID), ns, { HostVolume: out });
      return this.write(ctx, { Volume: out, Warnings: '', Index: idx });
    }
    const id = rest[1] ?? '';
    if (method === 'GET') return this.read(ctx, () => {
      const v = this.state.volumes.get(id);
      if (!v) throw new DoubleError(404, 'volume not found');
      const allocs = this.volumeClaims(v);
      return { body: { ...v, Allocations: allocs.map((x) => this.state.allocStub(x, false)) }, index: num(v.ModifyIndex) };
    });
    if (method === 'DELETE') {
      const v = this.state.volumes.get(id);
      this.state.volumeDeletes.push({ id, name: str(v?.Name), namespace: str(v?.Namespace, ctx.ns), at: Date.now() });
      if (!v) throw new DoubleError(404, 'volume not found');
      const inUse = this.volumeClaims(v);
      if (inUse.length > 0) throw new DoubleError(400, `volume ${id} in use by allocations: [${inUse.map((x) => str(x.alloc.ID)).join(' ')}]`);
      this.state.volumes.delete(id);
      const idx = this.state.bump('volumes');
      this.state.publish('HostVolume', 'HostVolumeDeleted', id, str(v.Namespace), { HostVolume: v });
      return this.write(ctx, { Index: idx });
    }
    throw new DoubleError(405, 'Invalid method');
  }

  // ----- variables -----

  private varRoutes(ctx: Ctx, path: string): Promise<void> | void {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    if (!/^[a-zA-Z0-9\-_~/]{1,128}$/.test(path) || path.startsWith('/') || path.endsWith('/') || path.includes('//')) throw new DoubleError(400, `invalid path "${path}"`);
    const ns = ctx.ns;
    const k = `${ns}\u0000${path}`;
    const cas = ctx.q.get('cas');
    if (method === 'GET') return this.read(ctx, () => {
      const v = this.state.vars.get(k);
      if (!v) throw new DoubleError(404, 'variable not found');
      return { body: v, index: num(v.ModifyIndex) };
    });
    if (isWrite) {
      const body = this.checkBody('Variable', ctx.body);
      if (body.Path !== undefined && body.Path !== path) throw new DoubleError(400, 'variable path does not match request path');
      if (path.startsWith('nomad/') && !/^nomad\/jobs(\/|$)/.test(path)) throw new DoubleError(400, `"nomad/" is a reserved top-level directory path, but you may write variables to "nomad/jobs" or below`);
      const items = isObj(body.Items) ? (body.Items as Record<string, string>) : {};
      if (Object.keys(items).length === 0) throw new DoubleError(400, 'variable missing Items');
      const size = Buffer.byteLength(JSON.stringify(items));
      if (size > 64 * 1024) throw new DoubleError(400, `variables are limited to 64KiB in total size (${size} bytes)`);
      const existing = this.state.vars.get(k);
      if (cas !== null) {
        const want = Number(cas);
        if ((want === 0 && existing) || (want !== 0 && num(existing?.ModifyIndex) !== want)) throw new DoubleError(409, 'cas conflict', existing ?? { Namespace: ns, Path: path, CreateIndex: 0, ModifyIndex: 0, CreateTime: 0, ModifyTime: 0, Items: null, Lock: null });
      }
      const idx = this.state.bump('vars');
      const now = Date.now() * 1e6;
      const v: Obj = { Namespace: ns, Path: path, Items: items, Lock: null, CreateIndex: existing?.CreateIndex ?? idx, ModifyIndex: idx, CreateTime: existing?.CreateTime ?? now, ModifyTime: now };
      this.state.vars.set(k, v);
      return this.send(ctx.res, 200, v, this.metaHeaders(idx));
    }
    if (method === 'DELETE') {
      const existing = this.state.vars.get(k);
      if (cas !== null && num(existing?.ModifyIndex) !== Number(cas)) throw new DoubleError(409, 'cas conflict', existing ?? { Namespace: ns, Path: path, CreateIndex: 0, ModifyIndex: 0, CreateTime: 0, ModifyTime: 0, Items: null, Lock: null });
      this.state.vars.delete(k);
      const idx = this.state.bump('vars');
      return this.send(ctx.res, 200, '', this.metaHeaders(idx));
    }
    throw new DoubleError(405, 'Invalid method');
  }

  // ----- namespaces and ACL policies -----

  private namespaceRoutes(ctx: Ctx, name: string | undefined): Promise<void> | void {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    if (isWrite) {
      const body = this.checkBody('Namespace', ctx.body);
      const n = str(body.Name) || str(name);
      if (name && body.Name && body.Name !== name) throw new DoubleError(400, 'Namespace name does not match request path');
      if (!/^[a-zA-Z0-9-]{1,128}$/.test(n)) throw new DoubleError(400, `invalid name "${n}". Must match regex ^[a-zA-Z0-9-]{1,128}$`);
      const idx = this.state.bump('namespaces');
      const existing = this.state.namespaces.get(n);
      this.state.namespaces.set(n, { Capabilities: null, NodePoolConfiguration: null, VaultConfiguration: null, ConsulConfiguration: null, Quota: '', Meta: null, Description: '', ...body, Name: n, CreateIndex: existing?.CreateIndex ?? idx, ModifyIndex: idx });
      return this.send(ctx.res, 200, '', this.metaHeaders(idx));
    }
    if (!name) throw new DoubleError(400, 'Missing namespace name');
    if (method === 'GET') return this.read(ctx, () => {
      const n = this.state.namespaces.get(name);
      if (!n) throw new DoubleError(404, 'namespace not found');
      return { body: n, index: num(n.ModifyIndex) };
    });
    if (method === 'DELETE') {
      if (name === 'default') throw new DoubleError(400, 'default namespace can not be deleted');
      const busy = [...this.state.jobs.values()].some((e) => { const j = e.versions[e.versions.length - 1]; return j?.Namespace === name && j.Status !== 'dead'; });
      if (busy) throw new DoubleError(500, `namespace "${name}" has non-terminal jobs in regions: [${REGION}]`);
      this.state.namespaces.delete(name);
      return this.send(ctx.res, 200, '', this.metaHeaders(this.state.bump('namespaces')));
    }
    throw new DoubleError(405, 'Invalid method');
  }

  private aclRoutes(ctx: Ctx, rest: string[]): Promise<void> | void {
    const { method } = ctx;
    const isWrite = method === 'PUT' || method === 'POST';
    if (rest[0] === 'policies' && method === 'GET') return this.read(ctx, () => ({ body: [...this.state.policies.values()].map(({ Rules: _r, ...stub }) => stub), index: this.state.tableIndex('acl') }));
    if (rest[0] !== 'policy' || !rest[1]) throw new DoubleError(404, 'Invalid URL path');
    const name = rest[1];
    if (isWrite) {
      const body = this.checkBody('ACLPolicy', ctx.body);
      if (body.Name !== name) throw new DoubleError(400, 'Policy name does not match request path');
      if (!/^[a-zA-Z0-9-]{1,128}$/.test(name)) throw new DoubleError(400, `invalid name '${name}'`);
      if (str(body.Rules).trim() === '') throw new DoubleError(400, 'policy rules cannot be empty');
      const idx = this.state.bump('acl');
      const existing = this.state.policies.get(name);
      this.state.policies.set(name, { Description: '', JobACL: null, ...body, CreateIndex: existing?.CreateIndex ?? idx, ModifyIndex: idx });
      return this.send(ctx.res, 200, '', this.metaHeaders(idx));
    }
    if (method === 'GET') return this.read(ctx, () => {
      const p = this.state.policies.get(name);
      if (!p) throw new DoubleError(404, 'ACL policy not found');
      return { body: p, index: num(p.ModifyIndex) };
    });
    if (method === 'DELETE') {
      this.state.policies.delete(name);
      return this.send(ctx.res, 200, '', this.metaHeaders(this.state.bump('acl')));
    }
    throw new DoubleError(405, 'Invalid method');
  }
}

function volumeStub(v: Obj): Obj {
  return { ID: v.ID, Name: v.Name, Namespace: v.Namespace, PluginID: v.PluginID, NodePool: v.NodePool, NodeID: v.NodeID, State: v.State, CapacityBytes: v.CapacityBytes, CreateIndex: v.CreateIndex, ModifyIndex: v.ModifyIndex, CreateTime: v.CreateTime, ModifyTime: v.ModifyTime };
}

function allocStats(alloc: Obj, group: Obj): Obj {
  const now = Date.now() * 1e6;
  const tasks: Obj = {};
  let rss = 0;
  let pct = 0;
  let ticks = 0;
  const seed = [...str(alloc.ID)].reduce((s, c) => s + c.charCodeAt(0), 0);
  for (const t of (group.Tasks as Obj[]) ?? []) {
    const memMB = num((t.Resources as Obj | undefined)?.MemoryMB, 300);
    const cpu = num((t.Resources as Obj | undefined)?.CPU, 100);
    const wobble = ((seed + Math.floor(Date.now() / 1000)) % 17) / 100;
    const used = Math.floor(memMB * 1024 * 1024 * (0.35 + wobble));
    const percent = Math.round(cpu / 40 * (0.5 + wobble) * 100) / 100;
    const usage = {
      MemoryStats: { RSS: used, Cache: Math.floor(used / 10), Swap: 0, Usage: used + Math.floor(used / 10), MaxUsage: Math.floor(used * 1.2), KernelUsage: 0, KernelMaxUsage: 0, Measured: ['RSS', 'Cache', 'Swap', 'Usage', 'Max Usage'] },
      CpuStats: { SystemMode: percent / 4, UserMode: (percent * 3) / 4, TotalTicks: percent * 40, ThrottledPeriods: 0, ThrottledTime: 0, Percent: percent, Measured: ['System Mode', 'User Mode', 'Percent'] },
      DeviceStats: [],
    };
    rss += used;
    pct += percent;
    ticks += percent * 40;
    tasks[str(t.Name)] = { ResourceUsage: usage, Timestamp: now, Pids: null };
  }
  return {
    ResourceUsage: {
      MemoryStats: { RSS: rss, Cache: Math.floor(rss / 10), Swap: 0, Usage: rss + Math.floor(rss / 10), MaxUsage: Math.floor(rss * 1.2), KernelUsage: 0, KernelMaxUsage: 0, Measured: ['RSS', 'Cache', 'Swap', 'Usage', 'Max Usage'] },
      CpuStats: { SystemMode: pct / 4, UserMode: (pct * 3) / 4, TotalTicks: ticks, ThrottledPeriods: 0, ThrottledTime: 0, Percent: pct, Measured: ['System Mode', 'User Mode', 'Percent'] },
      DeviceStats: [],
    },
    Tasks: tasks,
    Timestamp: now,
  };
}

function agentSelf(): Obj {
  return {
    config: { Region: REGION, Datacenter: 'dc1', NodeName: 'nomad-double', Version: { Version: '2.0.5', VersionPrerelease: '', VersionMetadata: '', Revision: 'double' }, Server: { Enabled: true }, Client: { Enabled: true } },
    member: { Addr: '127.0.0.1', Name: 'nomad-double.global', Port: 4648, Status: 'alive', ProtocolCur: 2, ProtocolMax: 5, ProtocolMin: 1, DelegateCur: 4, DelegateMax: 5, DelegateMin: 2, Tags: { region: REGION, dc: 'dc1', build: '2.0.5', role: 'nomad' } },
    stats: { nomad: { leader: 'true', known_regions: '1', server: 'true' } },
  };
}

export type { Table };
