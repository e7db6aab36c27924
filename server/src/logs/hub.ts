/**
 * LogHub: one upstream Nomad log stream per (namespace, allocation, task, stdout|stderr), followed from its end and
 * shared by every subscriber of this process (fan-out). Upstreams start with the first subscriber, reconnect from the
 * last offset after a drop, and close a grace period after the last subscriber leaves. History (from the start or an
 * offset) is a separate, non-following read per subscriber (`read`).
 */
import type { Logger } from 'pino';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { LogChunk } from '@drover/scheduler/nomad/index.ts';
import type { LogStreamType } from './cursor.ts';
import { streamKey } from './cursor.ts';

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

/** LogListener hears every live chunk of a stream (never blocks: it must queue or drop). */
export type LogListener = (chunk: LogChunk) => void;

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
    let origin: 'start' | 'end' = 'end';
    let offset = 0;
    let file: string | undefined;
    const signal = u.abort.signal;
    while (!signal.aborted) {
      try {
        this.opened += 1;
        const frames = await this.nomad.fs.logs(u.source.allocId, { task: u.source.task, type: u.source.type, follow: true, origin, offset }, { namespace: u.source.namespace, signal });
        for await (const c of frames) {
          if (file !== undefined && c.file !== file && origin === 'start') offset = 0;
          file = c.file;
          origin = 'start';
          offset = c.offset;
          if (c.data.length === 0 && c.event === undefined) continue;
          for (const l of u.listeners) l(c);
        }
        if (signal.aborted) break;
        // The stream ended (the task stopped): wait and look again, the allocation may restart the task.
      } catch (e) {
        if (signal.aborted) break;
        this.logger?.debug({ err: e, stream: u.key }, 'log upstream dropped; reconnecting');
      }
      await new Promise((r) => setTimeout(r, this.reconnectMs).unref());
    }
  }
}
