/**
 * A tiny real HTTP server for the adapter tests (Nomad, Consul, Vault): it records every request (method, path,
 * query, headers, body) and answers through a handler, which may delay, stream, fail or reset the connection.
 * Tests only; it is not a test double of any system's behaviour (see scheduler/src/testing/ for Nomad's).
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** RecordedRequest is one request the test server received. */
export interface RecordedRequest {
  /** method is the HTTP method (LIST included for Vault). */
  method: string;
  /** path is the URL path without the query. */
  path: string;
  /** query holds the query parameters. */
  query: URLSearchParams;
  /** headers are the request headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** text is the raw body. */
  text: string;
  /** json is the body parsed as JSON, or undefined when empty or not JSON. */
  json: unknown;
  /** socket is the connection the request came on (to assert keep-alive or to reset it). */
  socket: Socket;
}

/** TestHandler answers one recorded request; throwing answers 500. */
export type TestHandler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

/** TestServer is a running test server. */
export interface TestServer {
  /** url is `http://127.0.0.1:<port>`. */
  url: string;
  /** requests lists every request received, in order. */
  requests: RecordedRequest[];
  /** connections counts the TCP connections accepted. */
  connections: () => number;
  /** handler may be replaced between steps of a test. */
  handler: TestHandler;
  /** close stops the server, destroying open connections. */
  close: () => Promise<void>;
}

/** sendJson writes a JSON response with extra headers (e.g. X-Nomad-Index). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** startTestServer listens on 127.0.0.1 on a free port with the given handler. */
export async function startTestServer(handler: TestHandler): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const state: TestServer = {
    url: '',
    requests: [],
    connections: () => connections,
    handler,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      const u = new URL(req.url ?? '/', 'http://x');
      const rec: RecordedRequest = { method: req.method ?? '', path: u.pathname, query: u.searchParams, headers: req.headers, text, json, socket: req.socket };
      state.requests.push(rec);
      Promise.resolve()
        .then(() => state.handler(rec, res))
        .catch((e: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: String(e) });
        });
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
