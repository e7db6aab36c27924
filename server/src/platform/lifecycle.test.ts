import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { drainServer, installShutdown } from './lifecycle.ts';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const r = request({ host: '127.0.0.1', port, path, agent: false }, (resp) => {
      let body = '';
      resp.on('data', (c: Buffer) => { body += c.toString(); });
      resp.on('end', () => res({ status: resp.statusCode ?? 0, body }));
      resp.on('error', rej);
    });
    r.on('error', rej);
    r.end();
  });
}

function slowServer(delayMs: number) {
  let received!: () => void;
  const arrived = new Promise<void>((r) => { received = r; });
  const server = createServer((req, res) => {
    if (req.url === '/slow') received();
    setTimeout(() => { res.end(`done ${req.url}`); }, req.url === '/slow' ? delayMs : 0);
  });
  return new Promise<{ server: typeof server; port: number; arrived: Promise<void> }>((res) =>
    server.listen(0, '127.0.0.1', () => res({ server, port: (server.address() as AddressInfo).port, arrived })));
}

describe('drainServer', () => {
  test('lets an in-flight request finish, refuses new connections, and resolves once drained', async () => {
    const { server, port, arrived } = await slowServer(500);
    const inflight = get(port, '/slow');
    await arrived; // the server is handling it
    const t0 = Date.now();
    const drained = drainServer(server, 5_000);
    await sleep(20);
    await assert.rejects(get(port, '/new'), /ECONNREFUSED/);
    assert.deepEqual(await inflight, { status: 200, body: 'done /slow' });
    assert.equal(await drained, true);
    assert.ok(Date.now() - t0 < 4_000);
  });

  test('cuts the connections still open at the deadline', async () => {
    const { server, port, arrived } = await slowServer(10_000);
    const inflight = get(port, '/slow').catch((e: Error) => e);
    await arrived;
    const t0 = Date.now();
    assert.equal(await drainServer(server, 200), false);
    assert.ok(Date.now() - t0 < 4_000);
    assert.ok((await inflight) instanceof Error);
  });
});

describe('installShutdown', () => {
  test('drains, closes the platform, exits 0; a second signal forces exit 1', async () => {
    const { server, port, arrived } = await slowServer(300);
    const signals = new EventEmitter();
    const events: string[] = [];
    const exits: number[] = [];
    const signal = 'SIGTERM';
    const shutdown = installShutdown({
      server,
      logger: pino({ level: 'silent' }),
      platform: { startDraining: () => events.push('draining'), close: async () => { events.push('closed'); } },
      exit: (code) => exits.push(code),
      signals: [signal],
      signalSource: signals,
    });
    const inflight = get(port, '/slow');
    await arrived;
    signals.emit(signal);
    await sleep(20);
    assert.deepEqual(events, ['draining']);
    signals.emit(signal);
    assert.deepEqual(exits, [1], 'second signal exits at once');
    await inflight;
    await shutdown('again');
    assert.deepEqual(events, ['draining', 'closed']);
    assert.deepEqual(exits, [1, 0]);
  });
});
