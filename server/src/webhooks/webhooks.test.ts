/**
 * Outgoing webhooks over real HTTP, real Postgres and real Redis: signed with HMAC-SHA256 (secret shown once),
 * retried with backoff from durable delivery records, redirects not followed, URLs refused for private, loopback,
 * link-local and metadata targets when saved AND when sent (DNS rebinding through a loopback DNS server).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { publishDeploymentEvent } from '../deployments/events.ts';
import { startDnsTestServer, type DnsTestServer } from '../domains/dns-test-server.ts';
import { SystemDnsResolver } from '../domains/verification.ts';
import { startRuntimeKit, until, type RuntimeKit } from '../events/test-kit.ts';

interface Hit { at: number; headers: IncomingMessage['headers']; body: string }

async function receiver(answer: (n: number) => { status: number; headers?: Record<string, string> }): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      hits.push({ at: Date.now(), headers: req.headers, body });
      const a = answer(hits.length);
      res.writeHead(a.status, a.headers ?? {});
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('webhooks: delivery (loopback targets allowed by the test-only override)', () => {
  let kit: RuntimeKit;
  before(async () => {
    kit = await startRuntimeKit({ runtime: { delivery: { baseDelayMs: 100, pollMs: 50, maxAttempts: 4, timeoutMs: 2_000 } } });
    await kit.runtime.start();
  });
  after(async () => { await kit.close(); });

  it('signs each delivery with the secret shown once, and retries failures with backoff until delivered', { timeout: 30_000 }, async () => {
    const rx = await receiver((n) => ({ status: n < 3 ? 500 : 200 }));
    const { target } = await kit.deployService();
    const created = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook`, events: ['deployment.healthy'] });
    assert.equal(created.status, 201, created.text);
    const secret = created.body.secret as string;
    assert.match(secret, /^whsec_[A-Za-z0-9_-]{43}$/);
    const listed = await kit.client.get(`/api/projects/${target.projectId}/webhooks`);
    assert.equal(listed.body.items.length, 1);
    assert.equal(listed.text.includes(secret), false, 'the secret is shown only at creation');

    await publishDeploymentEvent(kit.bus, { type: 'deployment.failed', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'd0' });
    await publishDeploymentEvent(kit.bus, { type: 'deployment.healthy', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'd1', reason: 'all allocations healthy' });
    await until(() => rx.hits.length >= 3, 15_000);
    await until(async () => ((await kit.app.db.dataSource.query(`SELECT state FROM webhook_deliveries WHERE webhook_id = $1`, [created.body.id])) as { state: string }[])[0]?.state === 'delivered');
    const [row] = (await kit.app.db.dataSource.query('SELECT state, attempts, last_status, event_type FROM webhook_deliveries WHERE webhook_id = $1', [created.body.id])) as { state: string; attempts: number; last_status: number; event_type: string }[];
    assert.deepEqual(row, { state: 'delivered', attempts: 3, last_status: 200, event_type: 'deployment.healthy' });
    assert.equal(rx.hits.length, 3, 'the unsubscribed deployment.failed event is not delivered');
    for (const h of rx.hits) {
      const sig = String(h.headers['x-drover-signature']);
      const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
      assert.ok(m, sig);
      assert.equal(m[2], createHmac('sha256', secret).update(`${m[1]}.${h.body}`).digest('hex'));
      assert.equal(h.headers['x-drover-event'], 'deployment.healthy');
      const body = JSON.parse(h.body);
      assert.equal(body.data.deploymentId, 'd1');
      assert.equal(body.data.reason, 'all allocations healthy');
    }
    const gaps = [(rx.hits[1]?.at ?? 0) - (rx.hits[0]?.at ?? 0), (rx.hits[2]?.at ?? 0) - (rx.hits[1]?.at ?? 0)];
    assert.ok((gaps[0] ?? 0) >= 70 && (gaps[1] ?? 0) >= 150, `exponential backoff between attempts: ${gaps.join(', ')} ms`);
    await rx.close();
  });

  it('does not follow a redirect (to a metadata address), and gives up after the last attempt', { timeout: 30_000 }, async () => {
    const rx = await receiver(() => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } }));
    const { target } = await kit.deployService();
    const created = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook` });
    await publishDeploymentEvent(kit.bus, { type: 'service.scaled', teamId: target.teamId, serviceId: target.serviceId });
    await until(async () => ((await kit.app.db.dataSource.query(`SELECT state FROM webhook_deliveries WHERE webhook_id = $1`, [created.body.id])) as { state: string }[])[0]?.state === 'failed', 15_000);
    const [row] = (await kit.app.db.dataSource.query('SELECT attempts, last_error FROM webhook_deliveries WHERE webhook_id = $1', [created.body.id])) as { attempts: number; last_error: string }[];
    assert.equal(row?.attempts, 4);
    assert.equal(row?.last_error, 'redirect 302 not followed');
    assert.equal(rx.hits.length, 4, 'only the webhook URL was called');
    await rx.close();
  });

  it('a delivery claimed by a replica that crashed is sent by another once its lease expires', { timeout: 30_000 }, async () => {
    const rx = await receiver(() => ({ status: 204 }));
    const { target } = await kit.deployService();
    const created = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook` });
    const db = kit.app.db.dataSource;
    // The state a crash leaves: claimed (attempt counted, lease set), never answered.
    await db.query(`INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, state, attempts, next_attempt_at, created_at)
      VALUES (gen_random_uuid(), $1, 1, 'service.stopped', '{"type":"service.stopped"}', 'pending', 1, now() + interval '1 second', now())`, [created.body.id]);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(rx.hits.length, 0, 'not retried while the lease holds');
    await until(() => rx.hits.length === 1, 10_000);
    await until(async () => ((await db.query('SELECT state FROM webhook_deliveries WHERE webhook_id = $1', [created.body.id])) as { state: string }[])[0]?.state === 'delivered');
    const [row] = (await db.query('SELECT attempts FROM webhook_deliveries WHERE webhook_id = $1', [created.body.id])) as { attempts: number }[];
    assert.equal(row?.attempts, 2);
    await rx.close();
  });

  it('delete removes the webhook and its deliveries; others get 404', { timeout: 30_000 }, async () => {
    const { target } = await kit.deployService();
    const created = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: 'http://127.0.0.1:9/x', description: 'temp' });
    assert.equal(created.status, 201);
    assert.equal((await kit.client.del(`/api/webhooks/${created.body.id}`)).status, 204);
    assert.equal((await kit.client.del(`/api/webhooks/${created.body.id}`)).status, 404);
    assert.equal((await kit.client.get(`/api/projects/${target.projectId}/webhooks`)).body.items.length, 0);
    assert.equal((await kit.client.get('/api/projects/00000000-0000-4000-8000-000000000000/webhooks')).status, 404);
  });
});

describe('webhooks: target checks (no override)', () => {
  let kit: RuntimeKit;
  let dns: DnsTestServer;
  before(async () => {
    dns = await startDnsTestServer();
    kit = await startRuntimeKit({ runtime: { allowLoopbackWebhooks: false, resolver: new SystemDnsResolver([dns.server]), delivery: { baseDelayMs: 100, pollMs: 50, maxAttempts: 3 } } });
    await kit.runtime.start();
  });
  after(async () => { await kit.close(); await dns.close(); });

  it('refuses private, loopback, link-local, metadata and malformed targets at save time, naming body.url', { timeout: 30_000 }, async () => {
    dns.records.set('private.example.test', { A: ['10.1.2.3'] });
    dns.records.set('mixed.example.test', { A: ['93.184.216.34', '192.168.1.1'] });
    dns.records.set('v6local.example.test', { AAAA: ['fd12::1'] });
    const { target } = await kit.deployService();
    const bad = [
      'http://127.0.0.1/hook', 'http://localhost:8080/', 'http://10.0.0.5/', 'http://172.20.1.1/', 'http://192.168.0.10/',
      'http://169.254.169.254/latest/meta-data/', 'http://[::1]/', 'http://[fe80::1]/', 'http://[::ffff:127.0.0.1]/', 'http://2130706433/',
      'http://0.0.0.0/', 'http://100.64.0.1/', 'http://metadata.google.internal/', 'http://private.example.test/', 'http://mixed.example.test/',
      'http://v6local.example.test/', 'http://nowhere.example.test/', 'ftp://example.com/', 'http://user:pw@example.com/', 'not a url',
    ];
    for (const url of bad) {
      const r = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url });
      assert.equal(r.status, 422, `${url}: ${r.status} ${r.text}`);
      assert.equal(r.body.errors?.[0]?.path, 'body.url', url);
    }
    assert.equal(((await kit.app.db.dataSource.query('SELECT count(*)::int AS n FROM webhooks')) as { n: number }[])[0]?.n, 0, 'nothing was saved');
  });

  it('DNS rebinding: a name that resolved to a public address at save time and to loopback at send time is not called', { timeout: 30_000 }, async () => {
    const rx = await receiver(() => ({ status: 200 }));
    const port = new URL(rx.url).port;
    dns.records.set('rebind.example.test', { A: ['93.184.216.34'] });
    const { target } = await kit.deployService();
    const created = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `http://rebind.example.test:${port}/hook` });
    assert.equal(created.status, 201, created.text);
    dns.records.set('rebind.example.test', { A: ['127.0.0.1'] });
    await publishDeploymentEvent(kit.bus, { type: 'deployment.healthy', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'd9' });
    await until(async () => ((await kit.app.db.dataSource.query(`SELECT state FROM webhook_deliveries WHERE webhook_id = $1`, [created.body.id])) as { state: string }[])[0]?.state === 'failed', 15_000);
    const [row] = (await kit.app.db.dataSource.query('SELECT attempts, last_error FROM webhook_deliveries WHERE webhook_id = $1', [created.body.id])) as { attempts: number; last_error: string }[];
    assert.match(row?.last_error ?? '', /^refused: the host resolves to a private, loopback/);
    assert.equal(row?.attempts, 1, 'a refused target is not retried');
    assert.equal(rx.hits.length, 0, 'the loopback receiver was never called');
    await rx.close();
  });
});
