/**
 * A Prometheus exposition served over real HTTP on loopback (tests only): what Traefik's metrics entry point answers,
 * with the counters a test sets. `traefikBytes` renders Traefik v3's per-service byte counters.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { REQUEST_BYTES, RESPONSE_BYTES } from './traefik.ts';

/** ExpositionServer is a running loopback server; set what it answers with `body`, `status` and `contentType`. */
export interface ExpositionServer {
  /** url is the metrics URL (`http://127.0.0.1:<port>/metrics`). */
  url: string;
  /** body is the exposition answered at /metrics, or a function called per scrape with the scrape's number (1, 2, …). */
  body: string | ((scrape: number) => string);
  /** status is the HTTP status answered (default 200). */
  status: number;
  /** contentType is the Content-Type answered (default the text format's). */
  contentType: string;
  /** requests counts the scrapes served. */
  requests: number;
  /** close stops the server. */
  close(): Promise<void>;
}

/** startExpositionServer listens on 127.0.0.1 on a free port. */
export async function startExpositionServer(): Promise<ExpositionServer> {
  const state: { body: string | ((scrape: number) => string); status: number; contentType: string; requests: number } = { body: '', status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', requests: 0 };
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    state.requests += 1;
    res.writeHead(state.status, { 'content-type': state.contentType }).end(typeof state.body === 'function' ? state.body(state.requests) : state.body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  return Object.assign(state, {
    url,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  });
}

/** TraefikSeries is one service's byte counters for one code/method. */
export interface TraefikSeries {
  /** service is the Traefik service label, e.g. `d-<id>@consulcatalog`. */
  service: string;
  /** rx is the request bytes counter. */
  rx: number;
  /** tx is the response bytes counter. */
  tx: number;
  /** code is the status code label (default 200). */
  code?: number;
  /** method is the method label (default GET). */
  method?: string;
}

/** traefikBytes renders the series as Traefik v3 does (HELP/TYPE, labels code, method, protocol, service), plus noise. */
export function traefikBytes(series: TraefikSeries[]): string {
  const line = (name: string, s: TraefikSeries, v: number) =>
    `${name}{code="${s.code ?? 200}",method="${s.method ?? 'GET'}",protocol="http",service="${s.service}"} ${v}`;
  return [
    '# HELP go_goroutines Number of goroutines that currently exist.',
    '# TYPE go_goroutines gauge',
    'go_goroutines 57',
    `# HELP ${REQUEST_BYTES} The total size of requests in bytes received by a service.`,
    `# TYPE ${REQUEST_BYTES} counter`,
    ...series.map((s) => line(REQUEST_BYTES, s, s.rx)),
    `# HELP ${RESPONSE_BYTES} The total size of responses in bytes returned by a service.`,
    `# TYPE ${RESPONSE_BYTES} counter`,
    ...series.map((s) => line(RESPONSE_BYTES, s, s.tx)),
    '# HELP traefik_service_requests_total How many HTTP requests processed on a service, partitioned by status code, protocol, and method.',
    '# TYPE traefik_service_requests_total counter',
    ...series.map((s) => line('traefik_service_requests_total', s, 7)),
    '',
  ].join('\n');
}
