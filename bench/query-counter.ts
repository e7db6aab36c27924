/**
 * Bench-only query counter, preloaded into the Drover server by bench/deploy-overhead.ts
 * (`node --import ./bench/query-counter.ts server/src/main.ts`, with BENCH_QUERY_LOG set to a file path). It counts
 * the Postgres statements each HTTP request sends (pg's Client#query, BEGIN/COMMIT included), following the request
 * through its async continuations (AsyncLocalStorage), and appends one line per `POST …/deployments` request to the
 * file: `<queries> <method> <path>`. Statements of the worker, the reconciler and other requests are not counted
 * against a request. Never loaded by the server itself.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync } from 'node:fs';
import { Server, type IncomingMessage, type ServerResponse } from 'node:http';
import pg from 'pg';

const file = process.env['BENCH_QUERY_LOG'];
const als = new AsyncLocalStorage<{ n: number }>();

if (file) {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function counted(this: unknown, ...a: unknown[]) {
    const c = als.getStore();
    if (c) c.n++;
    return query.apply(this, a);
  };
  const emit = Server.prototype.emit as (this: Server, event: string | symbol, ...a: unknown[]) => boolean;
  Server.prototype.emit = function counting(this: Server, event: string | symbol, ...a: unknown[]): boolean {
    if (event !== 'request') return emit.call(this, event, ...a);
    const [req, res] = a as [IncomingMessage, ServerResponse];
    const c = { n: 0 };
    if (req.method === 'POST' && /\/deployments$/.test(req.url ?? '')) {
      res.once('finish', () => appendFileSync(file, `${c.n} ${req.method} ${req.url}\n`));
    }
    return als.run(c, () => emit.call(this, event, ...a));
  } as Server['emit'];
}
