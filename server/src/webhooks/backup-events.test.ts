/**
 * A database's backup verdicts reach its project's webhooks: the backup runner judges a backup whose dump task fails
 * (a real batch job on the Nomad double over HTTP), records `backup.failed` in the event log and publishes it on the bus (Redis), and the webhook
 * delivery POSTs it, signed with HMAC-SHA256, over real HTTP to a receiver on loopback (allowed by the test-only
 * override, as in webhooks.test.ts), naming the database, the backup and the reason. A webhook subscribed to other
 * events gets nothing. On the team event stream (SSE), a member limited to chosen projects sees the verdicts of their
 * projects' databases only.
 */
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { jobId, namespaceName } from '@drover/scheduler/compiler/names.ts';
import { auxJobId } from '@drover/scheduler/databases/jobs.ts';
import { planSettings } from '@drover/scheduler/manifest/to-state.ts';
import { BackupRunner } from '../backups/runner.ts';
import type { Actor } from '../core/actor.ts';
import { systemClock } from '../core/clock.ts';
import { publishDeploymentEvent } from '../deployments/events.ts';
import { startRuntimeKit, SseReader, until, type RuntimeKit } from '../events/test-kit.ts';
import { Client, testPassword } from '../testing/app.ts';

interface Hit { headers: IncomingMessage['headers']; body: string }

async function receiver(): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      hits.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

describe('webhooks: database backup verdicts', () => {
  let kit: RuntimeKit;
  before(async () => {
    kit = await startRuntimeKit({ runtime: { delivery: { baseDelayMs: 100, pollMs: 50, maxAttempts: 3, timeoutMs: 2_000 } } });
    await kit.runtime.start();
  });
  after(async () => { await kit.close(); });

  it('delivers a signed backup.failed with the database, the backup and the reason when the dump task fails', { timeout: 60_000 }, async () => {
    const rx = await receiver();
    const other = await receiver();
    const { target } = await kit.deployService();
    const actor: Actor = { kind: 'session', userId: kit.owner.userId, scopes: ['read', 'deploy', 'admin'], ip: '127.0.0.1', requestId: randomUUID() };
    const project = (await kit.client.get(`/api/projects/${target.projectId}`)).body;
    const envId = (await kit.client.get(`/api/projects/${target.projectId}/environments`)).body.items[0].id as string;
    const svc = kit.app.services;
    const db = await svc.databases.create(actor, envId, { name: 'cache', engine: 'redis' });
    const dest = await svc.backups.createDestination(actor, target.teamId, { name: 'local', endpoint: 'http://127.0.0.1:9', bucket: 'backups', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret-key' });
    const hook = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook`, events: ['backup.failed'] });
    assert.equal(hook.status, 201, hook.text);
    const unrelated = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${other.url}/hook`, events: ['deployment.healthy', 'backup.succeeded'] });
    assert.equal(unrelated.status, 201, unrelated.text);

    const backup = await svc.backups.requestBackup(actor, db.id, dest.id);
    const team = (await kit.client.get(`/api/teams/${target.teamId}`)).body;
    const ns = namespaceName(team.slug, team.id);
    kit.double.control.createNamespace(ns);
    kit.double.control.setScenario(auxJobId(jobId(project.slug, 'production', 'cache', db.id), 'backup', backup.id), 'crash', ns);
    const runner = new BackupRunner({
      dataSource: kit.app.db.dataSource, nomad: kit.nomad, settings: planSettings({ appsDomain: 'apps.example.test', secrets: { kind: 'nomad' }, nodePool: 'default', constraints: [] }),
      volumePlugin: 'mkdir', secrets: svc.projectDomains.secrets, access: svc.access, audit: svc.audit, clock: systemClock, pollMs: 20, batchTimeoutMs: 20_000,
      bus: kit.bus,
    });
    assert.equal(await runner.runQueued(), 1);
    const [row] = (await kit.app.db.dataSource.query('SELECT status, reason FROM backups WHERE id = $1', [backup.id])) as { status: string; reason: string }[];
    assert.equal(row?.status, 'failed');

    await until(() => rx.hits.length >= 1, 15_000);
    const hit = rx.hits[0]!;
    assert.equal(hit.headers['x-drover-event'], 'backup.failed');
    const sig = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(hit.headers['x-drover-signature']));
    assert.ok(sig, String(hit.headers['x-drover-signature']));
    assert.equal(sig[2], createHmac('sha256', hook.body.secret as string).update(`${sig[1]}.${hit.body}`).digest('hex'), 'signed with the webhook secret');
    const body = JSON.parse(hit.body);
    assert.equal(body.type, 'backup.failed');
    assert.equal(body.data.type, 'backup.failed');
    assert.equal(body.data.teamId, target.teamId);
    assert.equal(body.data.databaseId, db.id);
    assert.equal(body.data.serviceId, db.id);
    assert.equal(body.data.backupId, backup.id);
    assert.equal(body.data.deploymentId, null);
    assert.equal(body.data.reason, `backup ${backup.id} failed: ${row.reason}`);
    assert.match(body.data.reason, /dump task exited with code 1/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.hits.length, 1, 'one delivery');
    assert.equal(other.hits.length, 0, 'a webhook subscribed to other events gets nothing');
    await rx.close();
    await other.close();
  });

  it('the team stream shows a database verdict to a member limited to its project, and not to one limited to another', { timeout: 30_000 }, async () => {
    const a = await kit.deployService();
    const b = await kit.deployService();
    const actor: Actor = { kind: 'session', userId: kit.owner.userId, scopes: ['read', 'deploy', 'admin'], ip: '127.0.0.1', requestId: randomUUID() };
    const envOf = async (projectId: string) => (await kit.client.get(`/api/projects/${projectId}/environments`)).body.items[0].id as string;
    const dbA = await kit.app.services.databases.create(actor, await envOf(a.target.projectId), { name: 'dba', engine: 'redis' });
    const dbB = await kit.app.services.databases.create(actor, await envOf(b.target.projectId), { name: 'dbb', engine: 'redis' });
    const email = `lim-${Date.now()}@example.test`;
    await kit.owner.client.post(`/api/teams/${kit.owner.teamId}/invitations`, { email, role: 'member', projectIds: [a.target.projectId] });
    const limited = new Client(kit.url);
    const token = new URL(kit.app.mailer.lastTo(email)?.link ?? '').hash.replace('#token=', '');
    assert.equal((await limited.post('/api/invitations/accept', { token, name: 'L', password: testPassword() })).status, 200);
    const owner = await SseReader.open(kit.client, `/api/teams/${kit.owner.teamId}/events`);
    const lim = await SseReader.open(limited, `/api/teams/${kit.owner.teamId}/events`);
    for (const r of [owner, lim]) { assert.equal(r.status, 200); await r.until((e) => e.event === 'ready'); }

    for (const db of [dbA, dbB]) {
      await publishDeploymentEvent(kit.coordination.events, { type: 'backup.failed', teamId: kit.owner.teamId, serviceId: db.id, databaseId: db.id, backupId: randomUUID(), reason: `backup of ${db.name} failed` });
    }
    await owner.until((e) => e.event === 'backup.failed' && JSON.parse(e.data).databaseId === dbB.id);
    await lim.until((e) => e.event === 'backup.failed');
    await new Promise((r) => setTimeout(r, 300));
    const seen = (r: SseReader) => r.events.filter((e) => e.event === 'backup.failed').map((e) => JSON.parse(e.data).databaseId as string);
    assert.deepEqual(seen(owner), [dbA.id, dbB.id]);
    assert.deepEqual(seen(lim), [dbA.id], "dbb's project is outside the limited member's projects");
    const data = JSON.parse(lim.events.find((e) => e.event === 'backup.failed')?.data ?? '{}');
    assert.equal(data.reason, 'backup of dba failed');
    assert.equal(typeof data.backupId, 'string');
    owner.close();
    lim.close();
  });
});
