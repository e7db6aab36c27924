/**
 * LogSession: one client's subscription to a service's runtime logs. For each (allocation, task, stream) it first
 * reads the requested history (from the start, from an offset, a tail, or from the client's Last-Event-ID cursor),
 * then follows the hub's shared live upstream, trimming what overlaps and filling any gap with another history read.
 * Live chunks wait in a per-stream queue bounded in bytes; a client that lets it overflow is dropped with a notice.
 */
import type { AllocationListStub, LogChunk, NomadClient } from '@drover/scheduler/nomad/index.ts';
import { isNomadNotFound } from '@drover/scheduler/nomad/index.ts';
import type { LogStreamType, StreamPosition } from './cursor.ts';
import { encodeCursor, fileIndexOf, streamKey } from './cursor.ts';
import type { LogHub, LogSource } from './hub.ts';
import type { ServiceTarget } from './target.ts';

/** LogSink is where a session writes (an SSE stream in production). */
export interface LogSink {
  /** isOpen tells whether the client is still there. */
  readonly isOpen: boolean;
  /** send writes one event; false when the client is gone or was dropped. */
  send(e: { id?: string; event: string; data: string }): boolean;
  /** ready resolves when the client can take more (history reads wait on it). */
  ready(): Promise<void>;
  /** close ends the stream with an optional last event. */
  close(last?: { event: string; data: string }): void;
  /** closed resolves once the stream is over. */
  readonly closed: Promise<unknown>;
}

/** LogQuery is what the client asked for. */
export interface LogQuery {
  /** types are the streams to read (stdout, stderr or both). */
  types: LogStreamType[];
  /** allocation limits the session to one allocation of the service's job. */
  allocation?: string;
  /** follow keeps the session open for new output (default true). */
  follow: boolean;
  /** origin is where `offset` counts from for streams the cursor does not name: start, or end (tail). */
  origin: 'start' | 'end';
  /** offset is the byte offset from origin. */
  offset: number;
  /** cursor holds the positions decoded from Last-Event-ID, when resuming. */
  cursor: StreamPosition[] | null;
}

/** LogSessionOptions tune one session. */
export interface LogSessionOptions {
  /** maxQueuedBytes bounds the live chunks one stream of one client may queue (default 256 KiB). */
  maxQueuedBytes?: number;
  /** pollMs is how often the allocation list is read to pick up new allocations (default 3 s). */
  pollMs?: number;
}

interface StreamState {
  source: LogSource;
  pos: { file: string; offset: number } | null;
  queue: LogChunk[];
  queued: number;
  wake: (() => void) | undefined;
  unsubscribe: () => void;
}

/** LogSession serves one subscription until the client leaves (or, without follow, until history is read). */
export class LogSession {
  private readonly nomad: NomadClient;
  private readonly hub: LogHub;
  private readonly target: ServiceTarget;
  private readonly q: LogQuery;
  private readonly sink: LogSink;
  private readonly maxQueued: number;
  private readonly pollMs: number;
  private readonly streams = new Map<string, StreamState>();
  private readonly abort = new AbortController();
  private readonly known = new Set<string>();
  private dropped = false;

  constructor(deps: { nomad: NomadClient; hub: LogHub }, target: ServiceTarget, q: LogQuery, sink: LogSink, opts: LogSessionOptions = {}) {
    this.nomad = deps.nomad;
    this.hub = deps.hub;
    this.target = target;
    this.q = q;
    this.sink = sink;
    this.maxQueued = opts.maxQueuedBytes ?? 256 * 1024;
    this.pollMs = opts.pollMs ?? 3_000;
  }

  /** run serves the session; resolves when it is over. */
  async run(): Promise<void> {
    void this.sink.closed.then(() => this.abort.abort());
    const workers: Promise<void>[] = [];
    try {
      let first = true;
      while (!this.abort.signal.aborted) {
        let allocs: AllocationListStub[];
        try {
          allocs = await this.allocations();
        } catch (e) {
          if (this.abort.signal.aborted) break;
          this.sink.close({ event: 'error', data: JSON.stringify({ code: 'nomad/unavailable', message: 'The Nomad cluster is unavailable; reconnect to retry.' }) });
          void e;
          break;
        }
        if (first && this.q.allocation && !allocs.some((a) => a.ID === this.q.allocation)) {
          this.sink.close({ event: 'error', data: JSON.stringify({ code: 'logs/allocation_not_found', message: 'The service has no such allocation.' }) });
          break;
        }
        for (const a of allocs) {
          if (this.known.has(a.ID ?? '')) continue;
          const running = a.ClientStatus === 'running';
          const finished = a.ClientStatus === 'complete' || a.ClientStatus === 'failed';
          if (!running && !(finished && (this.q.origin === 'start' || !this.q.follow || this.q.allocation))) continue;
          const tasks = Object.keys(a.TaskStates ?? {});
          if (tasks.length === 0) continue;
          this.known.add(a.ID ?? '');
          const isNew = !first; // appeared while following: everything it printed is new
          for (const task of tasks) {
            for (const type of this.q.types) workers.push(this.stream({ namespace: this.target.namespace, allocId: a.ID ?? '', task, type }, isNew));
          }
        }
        if (first && !this.q.follow) {
          await Promise.all(workers);
          this.sink.close({ event: 'end', data: JSON.stringify({ reason: 'history_read' }) });
          break;
        }
        first = false;
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.pollMs);
          this.abort.signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
        });
      }
    } finally {
      this.abort.abort();
      for (const s of this.streams.values()) {
        s.unsubscribe();
        s.wake?.();
      }
      await Promise.allSettled(workers);
    }
  }

  private async allocations(): Promise<AllocationListStub[]> {
    try {
      const r = await this.nomad.jobs.allocations(this.target.jobId, {}, { namespace: this.target.namespace, signal: this.abort.signal });
      return r.data.filter((a) => !this.q.allocation || a.ID === this.q.allocation);
    } catch (e) {
      if (isNomadNotFound(e)) return []; // never deployed (or purged): no logs yet
      throw e;
    }
  }

  private async stream(source: LogSource, isNew: boolean): Promise<void> {
    const key = streamKey(source.allocId, source.task, source.type);
    const st: StreamState = { source, pos: null, queue: [], queued: 0, wake: undefined, unsubscribe: () => {} };
    this.streams.set(key, st);
    if (this.q.follow) {
      st.unsubscribe = this.hub.subscribe(source, (c) => {
        if (this.dropped) return;
        st.queue.push(c);
        st.queued += c.data.length;
        if (st.queued > this.maxQueued) this.drop();
        st.wake?.();
      });
    }
    const resume = this.q.cursor?.find((p) => p.allocId === source.allocId && p.task === source.task && p.type === source.type);
    try {
      if (resume) await this.history(st, 'start', resume.offset);
      else if (isNew || (this.q.cursor && this.q.cursor.length > 0)) await this.history(st, 'start', 0);
      else if (this.q.origin === 'start' || this.q.offset > 0 || !this.q.follow) await this.history(st, this.q.origin, this.q.offset);
      if (!this.q.follow) return;
      while (!this.abort.signal.aborted) {
        const c = st.queue.shift();
        if (!c) {
          await new Promise<void>((r) => { st.wake = r; });
          st.wake = undefined;
          continue;
        }
        st.queued -= c.data.length;
        const start = c.offset - c.data.length;
        if (st.pos && st.pos.file === c.file && start > st.pos.offset) {
          // A gap between what was read and the live stream (the upstream started after our history read): fill it.
          await this.history(st, 'start', st.pos.offset, start);
        }
        this.deliver(st, c);
      }
    } catch (e) {
      if (!this.abort.signal.aborted && !this.dropped) {
        this.sink.send({ event: 'warning', data: JSON.stringify({ allocation: source.allocId, task: source.task, stream: source.type, message: `log stream unavailable: ${e instanceof Error ? e.name : 'error'}` }) });
      }
    }
  }

  /** history reads from a position without following, up to `until` (an offset in the same file) when given. */
  private async history(st: StreamState, origin: 'start' | 'end', offset: number, until?: number): Promise<void> {
    const frames = await this.hub.read(st.source, origin, offset, this.abort.signal);
    for await (const c of frames) {
      if (this.abort.signal.aborted) return;
      await this.sink.ready();
      if (until !== undefined && st.pos && c.file === st.pos.file && c.offset - c.data.length >= until) break;
      this.deliver(st, c);
    }
  }

  private deliver(st: StreamState, c: LogChunk): void {
    let data = c.data;
    if (st.pos && st.pos.file === c.file) {
      const start = c.offset - c.data.length;
      if (c.offset <= st.pos.offset) return; // already delivered
      if (start < st.pos.offset) data = data.subarray(st.pos.offset - start);
    }
    st.pos = { file: c.file, offset: c.offset };
    if (data.length === 0 && c.event === undefined) return;
    const positions: StreamPosition[] = [];
    for (const s of this.streams.values()) {
      if (s.pos) positions.push({ allocId: s.source.allocId, task: s.source.task, type: s.source.type, fileIndex: fileIndexOf(s.pos.file), offset: s.pos.offset });
    }
    const ok = this.sink.send({
      id: encodeCursor(positions),
      event: 'log',
      data: JSON.stringify({ allocation: st.source.allocId, task: st.source.task, stream: st.source.type, file: c.file, offset: c.offset, text: data.toString('utf8'), ...(c.event ? { fileEvent: c.event } : {}) }),
    });
    if (!ok && this.sink.isOpen === false) this.abort.abort();
  }

  private drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.sink.close({ event: 'dropped', data: JSON.stringify({ reason: 'slow_client', message: 'The client did not read fast enough; reconnect with Last-Event-ID to resume.' }) });
    this.abort.abort();
  }
}
