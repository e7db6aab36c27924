/**
 * Server-Sent Events over a raw Node response, with a bound on what one client may hold in memory: events are written
 * to the socket as they come; when the bytes the socket has not yet taken exceed `maxBufferedBytes` (a slow or stalled
 * client), the stream sends one final `dropped` event and closes. Nothing is ever queued beyond that bound.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** SseEvent is one event: an optional id (for Last-Event-ID), an event name and its data (one line or many). */
export interface SseEvent {
  /** id becomes the client's Last-Event-ID; it may not contain newlines. */
  id?: string;
  /** event names the event type (default `message`). */
  event?: string;
  /** data is the payload; newlines are split into several `data:` lines. */
  data: string;
}

/** SseOptions tune one stream. */
export interface SseOptions {
  /** maxBufferedBytes is the most one client may hold unsent before it is dropped (default 256 KiB). */
  maxBufferedBytes?: number;
  /** heartbeatMs is the interval of `: hb` comments that keep proxies from closing an idle stream (default 15 s; 0 = none). */
  heartbeatMs?: number;
  /** retryMs is sent as `retry:` so browsers reconnect after this long. */
  retryMs?: number;
}

/** DEFAULT_SSE_BUFFER is the default per-client bound of unsent bytes. */
export const DEFAULT_SSE_BUFFER = 256 * 1024;

/** formatSse serializes one event to its wire form (ending with the blank line). */
export function formatSse(e: SseEvent): string {
  let out = '';
  if (e.id !== undefined) out += `id: ${e.id.replace(/[\r\n]/g, '')}\n`;
  if (e.event !== undefined) out += `event: ${e.event.replace(/[\r\n]/g, '')}\n`;
  for (const line of e.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/**
 * SseStream is one open event stream. `send` returns false once the stream is closed (by the client, by `close`, or
 * because the client fell too far behind); `closed` resolves when it is over, with the reason.
 */
export class SseStream {
  /** closed resolves once the stream has ended: `client` (the client left), `server` (close()), `slow` (dropped). */
  readonly closed: Promise<'client' | 'server' | 'slow'>;
  private readonly res: ServerResponse;
  private readonly max: number;
  private done = false;
  private finish!: (why: 'client' | 'server' | 'slow') => void;
  private heartbeat: NodeJS.Timeout | undefined;
  private bytes = 0;

  constructor(req: IncomingMessage, res: ServerResponse, opts: SseOptions = {}) {
    this.res = res;
    this.max = opts.maxBufferedBytes ?? DEFAULT_SSE_BUFFER;
    this.closed = new Promise((resolve) => { this.finish = resolve; });
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    if (opts.retryMs !== undefined) res.write(`retry: ${Math.floor(opts.retryMs)}\n\n`);
    const onClose = () => this.end('client');
    res.on('close', onClose);
    req.on('close', () => { if (req.destroyed && !res.writableFinished) onClose(); });
    const hb = opts.heartbeatMs ?? 15_000;
    if (hb > 0) {
      this.heartbeat = setInterval(() => this.write(': hb\n\n'), hb);
      this.heartbeat.unref();
    }
  }

  /** isOpen tells whether events can still be sent. */
  get isOpen(): boolean {
    return !this.done;
  }

  /** buffered is the number of bytes written but not yet taken by the socket. */
  get buffered(): number {
    return this.res.writableLength;
  }

  /** sent is the number of bytes handed to the socket so far. */
  get sentBytes(): number {
    return this.bytes;
  }

  /**
   * ready resolves once the client has taken at least half of the buffer bound (or the stream closed): producers
   * that can wait (history reads) await it; live fan-out never waits and relies on the drop instead.
   */
  async ready(): Promise<void> {
    while (!this.done && this.res.writableLength > this.max / 2) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, 1_000);
        function done() { clearTimeout(t); resolve(); }
        this.res.once('drain', done);
        void this.closed.then(done);
      });
    }
  }

  /** send writes one event; false when closed (or just dropped for being too slow). */
  send(e: SseEvent): boolean {
    return this.write(formatSse(e));
  }

  /** sendRaw writes an already formatted event (fan-out formats once for many clients). */
  sendRaw(wire: string): boolean {
    return this.write(wire);
  }

  /** close sends an optional last event and ends the response. */
  close(last?: SseEvent): void {
    if (this.done) return;
    if (last) this.res.write(formatSse(last));
    this.end('server');
  }

  private write(wire: string): boolean {
    if (this.done) return false;
    if (this.res.writableLength + wire.length > this.max) {
      // The client is not keeping up: one notice, then the connection ends; nothing more is buffered for it.
      this.res.write(formatSse({ event: 'dropped', data: JSON.stringify({ reason: 'slow_client', message: 'The client did not read fast enough; reconnect with Last-Event-ID to resume.' }) }));
      this.end('slow');
      return false;
    }
    this.bytes += wire.length;
    this.res.write(wire);
    return true;
  }

  private end(why: 'client' | 'server' | 'slow'): void {
    if (this.done) return;
    this.done = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (why === 'client') {
      this.res.destroy();
    } else {
      this.res.end();
      // A stalled client never drains: free its socket after a grace period instead of holding the buffer.
      if (why === 'slow') setTimeout(() => this.res.destroy(), 10_000).unref();
    }
    this.finish(why);
  }
}
