/**
 * LogHub: one upstream Nomad log stream per (namespace, allocation, task, stdout|stderr), followed from its end and
 * shared by every subscriber of this process (fan-out). Upstreams start with the first subscriber at the stream's
 * current end (located from the log directory listing: Nomad's `origin=end&offset=0` means the START of the newest
 * file), reconnect from the last (file, offset) reached after a drop, and close a grace period after the last
 * subscriber leaves. Each live chunk comes with `from`, the position it continues when the upstream knows it follows
 * the previous one without a gap (null otherwise), so subscribers know when they must fill a gap. History (from the
 * start or an offset) is a separate, non-following read per subscriber (`read`).
 */
import type { Logger } from 'pino';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { LogChunk } from '@drover/scheduler/nomad/index.ts';
import type { LogStreamType } from './cursor.ts';
import { streamKey } from './cursor.ts';
import { chunkEnd, chunkStart, comparePositions, endOf, listLogFiles, locate, type LogFile, type LogPosition } from './position.ts';

/** LogSource names one stream. */
export interface LogSource {
  /** namespace is the team's Nomad namespace. */
  namespace: string;
  /** allocId is the allocation. */
  allocId: string;
  /** task is the task. */
  task: string;
  /** type is stdout or stderr. */
  type: LogStreamType;
}

/**
 * LogListener hears every live chunk of a stream (never blocks: it must queue or drop), with `from`: the position the
 * chunk continues without a gap (the end of the upstream's previous chunk), or null when that is not known.
 */
export type LogListener = (chunk: LogChunk, from: LogPosition | null) => void;

/** LogHubOptions tune upstreams. */
export interface LogHubOptions {
  /** graceMs keeps an upstream open this long after its last subscriber left (default 2 s). */
  graceMs?: number;
  /** reconnectMs waits this long before reconnecting a dropped upstream (default 500 ms). */
  reconnectMs?: number;
  /** logger hears about upstream failures. */
  logger?: Logger;
}

interface Upstream {
  key: string;
  source: LogSource;
  listeners: Set<LogListener>;
  abort: AbortController;
  idle: NodeJS.Timeout | undefined;
}

/** LogHub shares upstream log streams between subscribers. */
export class LogHub {
  private readonly nomad: NomadClient;
  private readonly upstreams = new Map<string, Upstream>();
  private readonly graceMs: number;
  private readonly reconnectMs: number;
  private readonly logger: Logger | undefined;
  private opened = 0;
  private readonly connected = new Set<Upstream>();

  constructor(nomad: NomadClient, opts: LogHubOptions = {}) {
    this.nomad = nomad;
    this.graceMs = opts.graceMs ?? 2_000;
    this.reconnectMs = opts.reconnectMs ?? 500;
    this.logger = opts.logger;
  }

  /** activeUpstreams is the number of open upstream streams (tests and the bench check the sharing). */
  get activeUpstreams(): number {
    return this.upstreams.size;
  }

  /** subscribers is the number of live listeners over every upstream of this hub. */
  get subscribers(): number {
    let n = 0;
    for (const u of this.upstreams.values()) n += u.listeners.size;
    return n;
  }

  /** positioned is the number of upstreams whose Nomad stream is open (tests wait for it before writing). */
  get positioned(): number {
    return this.connected.size;
  }

  /** upstreamsOpened counts every upstream connection this hub has started, reconnects included. */
  get upstreamsOpened(): number {
    return this.opened;
  }

  /** subscribe adds a listener to the stream's shared upstream (starting it when needed); returns the unsubscribe. */
  subscribe(source: LogSource, listener: LogListener): () => void {
    const key = `${source.namespace}/${streamKey(source.allocId, source.task, source.type)}`;
    let u = this.upstreams.get(key);
    if (!u) {
      u = { key, source, listeners: new Set(), abort: new AbortController(), idle: undefined };
      this.upstreams.set(key, u);
      void this.run(u);
    }
    if (u.idle) {
      clearTimeout(u.idle);
      u.idle = undefined;
    }
    u.listeners.add(listener);
    const up = u;
    return () => {
      up.listeners.delete(listener);
      if (up.listeners.size === 0 && !up.idle) {
        up.idle = setTimeout(() => this.stop(up), this.graceMs);
        up.idle.unref();
      }
    };
  }

  /** files lists the stream's kept log files with their sizes (to locate a position across rotations). */
  files(source: LogSource, signal: AbortSignal): Promise<LogFile[]> {
    return listLogFiles(this.nomad, source, signal);
  }

  /** read returns the stream's history from a position, without following (one request per call, not shared). */
  async read(source: LogSource, origin: 'start' | 'end', offset: number, signal: AbortSignal): Promise<AsyncIterable<LogChunk>> {
    return this.nomad.fs.logs(source.allocId, { task: source.task, type: source.type, follow: false, origin, offset }, { namespace: source.namespace, signal });
  }

  /** close stops every upstream. */
  close(): void {
    for (const u of [...this.upstreams.values()]) this.stop(u);
  }

  private stop(u: Upstream): void {
    if (u.idle) clearTimeout(u.idle);
    u.abort.abort();
    if (this.upstreams.get(u.key) === u) this.upstreams.delete(u.key);
  }

  private async run(u: Upstream): Promise<void> {
    // last is the position after the last byte passed on (null until known); the first connection starts at the end.
    let last: LogPosition | null = null;
    const signal = u.abort.signal;
    while (!signal.aborted) {
      try {
        let offset = 0;
        let origin: 'start' | 'end' = 'start';
        let expected: LogPosition | null = null;
        try {
          const files = await this.files(u.source, signal);
          if (last) {
            const loc = locate(files, last);
            offset = loc.offset;
            expected = loc.exact ? loc.expected : null;
          } else {
            const end = endOf(files);
            offset = end.offset;
            last = end.position;
            expected = end.position;
          }
        } catch (e) {
          if (signal.aborted) break;
          // No listing (e.g. a token without read-fs): follow from the newest file's start; continuity unknown.
          this.logger?.debug({ err: e, stream: u.key }, 'log directory listing failed; following without a position');
          if (!last) origin = 'end';
          else offset = last.offset;
        }
        this.opened += 1;
        const frames = await this.nomad.fs.logs(u.source.allocId, { task: u.source.task, type: u.source.type, follow: true, origin, offset }, { namespace: u.source.namespace, signal });
        this.connected.add(u);
        let first = true;
        for await (const raw of frames) {
          let c = raw;
          if (c.event === 'file deleted') continue;
          let from: LogPosition | null = null;
          const start = chunkStart(c);
          if (c.event === 'file truncated') {
            from = null;
          } else if (first) {
            // The first frame of a connection continues `last` only if it starts no later than where it should.
            if (last && expected && comparePositions(start, expected) <= 0) from = last;
          } else if (last && (start.fileIndex === last.fileIndex ? start.offset === last.offset : start.fileIndex === last.fileIndex + 1 && start.offset === 0)) {
            from = last;
          }
          if (last && c.event === undefined && start.fileIndex <= last.fileIndex && (start.fileIndex < last.fileIndex || c.offset <= last.offset)) continue; // already passed on
          if (last && c.event === undefined && start.fileIndex === last.fileIndex && start.offset < last.offset) {
            c = { ...c, data: c.data.subarray(last.offset - start.offset) };
          }
          first = false;
          if (c.data.length === 0 && c.event === undefined) continue;
          last = chunkEnd(c);
          for (const l of u.listeners) l(c, from);
        }
        if (signal.aborted) break;
        // The stream ended (the task stopped): wait and look again, the allocation may restart the task.
      } catch (e) {
        if (signal.aborted) break;
        this.logger?.debug({ err: e, stream: u.key }, 'log upstream dropped; reconnecting');
      } finally {
        this.connected.delete(u);
      }
      await new Promise((r) => setTimeout(r, this.reconnectMs).unref());
    }
  }
}
