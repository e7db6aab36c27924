/**
 * Server-Sent Event streams that reconnect by themselves. The browser's EventSource already reconnects after a
 * dropped connection, sending `Last-Event-ID` so the server resumes where the stream left off; when the browser gives
 * up (an HTTP error or a wrong content type closes the source), `openStream` opens a new one after a growing delay
 * (1 s, doubling, capped at 30 s). Components never build EventSources themselves.
 */

/** StreamState is what the UI shows about a stream. */
export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** StreamOptions are the handlers of one stream. */
export interface StreamOptions {
  /** events maps an event name (`log`, `deployment.healthy`…) to its handler, given the parsed data and the event ID. */
  events: Record<string, (data: unknown, id: string) => void>;
  /** onState is told every change of state. */
  onState?: (s: StreamState) => void;
}

/** Stream is an open stream; `close` stops it for good. */
export interface Stream {
  /** close stops the stream and every reconnection. */
  close: () => void;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** openStream opens `url` (same origin, with the session cookie) and keeps it open until `close`. */
export function openStream(url: string, opts: StreamOptions): Stream {
  let source: EventSource | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let delay = 1_000;
  let closed = false;
  const state = (s: StreamState) => opts.onState?.(s);
  const connect = () => {
    if (closed) return;
    state('connecting');
    const es = new EventSource(url, { withCredentials: true });
    source = es;
    es.onopen = () => {
      delay = 1_000;
      state('open');
    };
    es.onerror = () => {
      if (closed) return;
      if (es.readyState === EventSource.CLOSED) {
        state('reconnecting');
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30_000);
      } else {
        state('reconnecting');
      }
    };
    for (const [name, handler] of Object.entries(opts.events)) {
      es.addEventListener(name, (e) => handler(parse((e as MessageEvent<string>).data), (e as MessageEvent).lastEventId));
    }
  };
  connect();
  return {
    close: () => {
      closed = true;
      clearTimeout(timer);
      source?.close();
      state('closed');
    },
  };
}
