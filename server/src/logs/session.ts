/**
 * LogSession: one client's subscription to a service's runtime logs. For each (allocation, task, stream) it first
 * reads the requested history (from the start, from an offset, a tail, or from the client's Last-Event-ID cursor),
 * then follows the hub's shared live upstream, trimming what overlaps and filling any gap with another history read.
 * Positions are (log file rotation index, offset in that file), so a resume or a gap fill continues in the right file
 * after Nomad rotated the log; when that is impossible (the file was rotated out, the read skipped ahead) the client
 * gets a `gap` event saying lines may be missing there. Live chunks wait in a per-stream queue bounded in bytes; a
 * client that lets it overflow is dropped with a notice.
 */
import type { AllocationListStub, LogChunk, NomadClient } from '@drover/scheduler/nomad/index.ts';
import { isNomadNotFound } from '@drover/scheduler/nomad/index.ts';
import type { LogStreamType, StreamPosition } from './cursor.ts';
import { encodeCursor, fileIndexOf, streamKey } from './cursor.ts';
import type { LogHub, LogSource } from './hub.ts';
import { chunkStart, comparePositions, locate, type GapReason, type LogPosition } from './position.ts';
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
  pos: { file: string; fileIndex: number; offset: number } | null;
  queue: { c: LogChunk; from: LogPosition | null }[];
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
      st.unsubscribe = this.hub.subscribe(source, (c, from) => {
        if (this.dropped) return;
        st.queue.push({ c, from });
        st.queued += c.data.length;
        if (st.queued > this.maxQueued) this.drop();
        st.wake?.();
      });
    }
    const resume = this.q.cursor?.find((p) => p.allocId === source.allocId && p.task === source.task && p.type === source.type);
    try {
      if (resume) await this.resumeFrom(st, { fileIndex: resume.fileIndex, offset: resume.offset });
      else if (isNew || (this.q.cursor && this.q.cursor.length > 0)) await this.history(st, 'start', 0);
      else if (this.q.origin === 'start' || this.q.offset > 0 || !this.q.follow) await this.history(st, this.q.origin, this.q.offset);
      if (!this.q.follow) return;
      while (!this.abort.signal.aborted) {
        const item = st.queue.shift();
        if (!item) {
          await new Promise<void>((r) => { st.wake = r; });
          st.wake = undefined;
          continue;
        }
        const { c, from } = item;
        st.queued -= c.data.length;
        const start = chunkStart(c);
        if (st.pos && c.event === undefined && comparePositions(start, st.pos) > 0 && !(from && comparePositions(from, st.pos) === 0)) {
          // A gap between what was read and the live stream (the upstream started after our history read, or the log
          // rotated in between): fill it from our position, across files, up to where the live chunk starts.
          await this.resumeFrom(st, { fileIndex: st.pos.fileIndex, offset: st.pos.offset }, start);
        }
        this.deliver(st, c);
      }
    } catch (e) {
      if (!this.abort.signal.aborted && !this.dropped) {
        this.sink.send({ event: 'warning', data: JSON.stringify({ allocation: source.allocId, task: source.task, stream: source.type, message: `log stream unavailable: ${e instanceof Error ? e.name : 'error'}` }) });
      }
    }
  }

  /** history reads from an origin and offset (Nomad's meaning: across the kept files) without following. */
  private async history(st: StreamState, origin: 'start' | 'end', offset: number): Promise<void> {
    const frames = await this.hub.read(st.source, origin, offset, this.abort.signal);
    for await (const c of frames) {
      if (this.abort.signal.aborted) return;
      await this.sink.ready();
      this.deliver(st, c);
    }
  }

  /**
   * resumeFrom reads from a position (file index, offset) without following, up to `until` when given: it lists the
   * kept log files to turn the position into Nomad's cumulative offset, and checks the first byte read starts where
   * it should (or, when nothing comes, that the listing had nothing after it). A file rotated out, or a read that
   * skipped ahead twice (the oldest file deleted between listing and reading), is reported with a `gap` event and the read goes on from the oldest byte still there.
   */
  private async resumeFrom(st: StreamState, pos: LogPosition, until?: LogPosition): Promise<void> {
    if (!st.pos) st.pos = { file: `alloc/logs/${st.source.task}.${st.source.type}.${pos.fileIndex}`, fileIndex: pos.fileIndex, offset: pos.offset };
    for (let attempt = 0; attempt < 2; attempt++) {
      let offset = pos.offset;
      let expected: LogPosition | null = null;
      let more = false;
      try {
        const files = await this.hub.files(st.source, this.abort.signal);
        const loc = locate(files, pos);
        offset = loc.offset;
        more = loc.offset < files.reduce((n, f) => n + f.size, 0); // the listing had bytes after the position
        if (loc.exact) expected = loc.expected;
        else this.gap(st, pos, loc.reason ?? 'skipped');
      } catch (e) {
        if (this.abort.signal.aborted) return;
        // Without the listing the offset is a guess (right only before the first rotation): say so.
        this.gap(st, pos, 'unverified');
        void e;
      }
      const frames = await this.hub.read(st.source, 'start', offset, this.abort.signal);
      let first = true;
      let retry = false;
      let any = false;
      for await (const c of frames) {
        if (this.abort.signal.aborted) return;
        if (c.data.length === 0 && c.event === undefined) continue;
        any = true;
        const start = chunkStart(c);
        if (until && c.event === undefined && comparePositions(start, until) >= 0) break;
        if (first && expected && c.event === undefined && comparePositions(start, expected) > 0) {
          // The read began after where it should have: the listing was stale (a rotation deleted the oldest file).
          if (attempt === 0) {
            retry = true;
            break;
          }
          this.gap(st, pos, 'skipped');
        }
        first = false;
        await this.sink.ready();
        this.deliver(st, c);
      }
      if (!any && more && expected && !this.abort.signal.aborted) {
        // Nothing came although the listing had bytes after the position: the read began past them.
        if (attempt === 0) continue;
        this.gap(st, pos, 'skipped');
      }
      if (!retry) return;
    }
  }

  /** gap tells the client that lines of one stream may be missing after `pos` (once per stream and position). */
  private gap(st: StreamState, pos: LogPosition, reason: GapReason): void {
    const messages: Record<GapReason, string> = {
      rotated_out: 'The log file holding this position was rotated out by Nomad; lines may be missing here.',
      skipped: 'The log rotated while reading; lines may be missing here.',
      unknown_position: 'The resume position is past the end of the log; lines may be missing here.',
      truncated: 'The log file is shorter than the resume position (truncated); lines may be missing here.',
      unverified: 'The log files could not be listed to locate the resume position; lines may be missing or repeated here.',
    };
    this.sink.send({
      event: 'gap',
      data: JSON.stringify({ allocation: st.source.allocId, task: st.source.task, stream: st.source.type, fileIndex: pos.fileIndex, offset: pos.offset, reason, message: messages[reason] }),
    });
  }

  private deliver(st: StreamState, c: LogChunk): void {
    let data = c.data;
    const idx = fileIndexOf(c.file);
    if (c.event === 'file deleted') return;
    if (c.event === 'file truncated') {
      // The file restarted from 0: what follows in it is new.
      st.pos = { file: c.file, fileIndex: idx, offset: 0 };
    } else if (st.pos) {
      if (idx < st.pos.fileIndex) return; // an older file: already delivered
      if (idx === st.pos.fileIndex) {
        const start = c.offset - c.data.length;
        if (c.offset <= st.pos.offset) return; // already delivered
        if (start < st.pos.offset) data = data.subarray(st.pos.offset - start);
      }
    }
    st.pos = { file: c.file, fileIndex: idx, offset: c.offset };
    if (data.length === 0 && c.event === undefined) return;
    const positions: StreamPosition[] = [];
    for (const s of this.streams.values()) {
      if (s.pos) positions.push({ allocId: s.source.allocId, task: s.source.task, type: s.source.type, fileIndex: s.pos.fileIndex, offset: s.pos.offset });
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
