import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { NomadClient } from './client.ts';
import { watch } from './blocking.ts';
import { NomadCasConflictError, NomadUnexpectedResponseError, isNomadNotFound } from './errors.ts';
import { NomadJobModifyIndexConflictError } from './jobs.ts';
import type { Job } from './types.ts';
import type { LogChunk } from './stream/frames.ts';
import { NomadState } from '../testing/nomad-double/state.ts';
import { NomadDoubleServer } from '../testing/nomad-double/server.ts';

const token = 'double-token';
const ns = 't-acme-0a1b2c3d';
const jobId = 'shop-prod-web-0a1b2c3d';

let double: NomadDoubleServer;
let url = '';
let sut: NomadClient;

function serviceJobFactory(image = 'nginx:1.27'): Job {
  return {
    ID: jobId,
    Name: jobId,
    Namespace: ns,
    Type: 'service',
    Datacenters: ['*'],
    Meta: { 'drover.team': 'team-1', 'drover.service': 'svc-1' },
    Update: { MaxParallel: 1, AutoRevert: true, HealthCheck: 'task_states', MinHealthyTime: 10_000_000, HealthyDeadline: 60_000_000_000, ProgressDeadline: 120_000_000_000 },
    TaskGroups: [{
      Name: 'web',
      Count: 1,
      Networks: [{ Mode: 'bridge', DynamicPorts: [{ Label: 'http', To: 8080 }] }],
      Services: [{ Name: jobId, PortLabel: 'http', Provider: 'consul', Tags: ['drover.managed=true'] }],
      Tasks: [{ Name: 'web', Driver: 'docker', Config: { image, ports: ['http'] }, Resources: { CPU: 100, MemoryMB: 128 } }],
    }],
  };
}

before(async () => {
  double = new NomadDoubleServer(new NomadState({ stepMs: 10 }), { token, logHeartbeatMs: 50, eventHeartbeatMs: 100 });
  url = await double.listen();
  sut = new NomadClient({ address: url, token, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
});

after(async () => {
  await sut.destroy();
  await double.close();
  double.state.close();
});

async function until<T>(read: (q: { index?: number; wait?: number; signal?: AbortSignal }) => Promise<{ data: T; meta: { lastIndex: number; knownLeader: boolean; lastContact: number; requestTimeMs: number } }>, done: (data: T) => boolean, ms = 10_000): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  let last: T | undefined;
  for await (const r of watch(read, { wait: 1000, signal })) {
    last = r.data;
    if (done(r.data)) return r.data;
  }
  throw new Error(`condition not reached within ${ms} ms; last state: ${JSON.stringify(last)?.slice(0, 2000)}`);
}

test('register → evaluation → allocations running → deployment successful, followed with blocking queries', { timeout: 30_000 }, async () => {
  await sut.namespaces.register({ Name: ns, Description: 'team acme', Meta: { 'drover.team': 'team-1' } });
  assert.equal((await sut.namespaces.info(ns)).data.Name, ns);

  const reg = await sut.jobs.register(serviceJobFactory(), { enforceIndex: true, modifyIndex: 0, submission: { Format: 'json', Source: '{}' } });
  assert.ok(reg.data.evalId, 'an evaluation was created');
  assert.ok(reg.data.jobModifyIndex > 0);
  assert.ok(Array.isArray(reg.data.warnings));

  const ev = await until((q) => sut.evaluations.info(reg.data.evalId, { ...q, namespace: ns }), (e) => e.Status === 'complete');
  assert.equal(ev.JobID, jobId);

  const allocs = await until((q) => sut.jobs.allocations(jobId, {}, { ...q, namespace: ns }), (a) => a.length === 1 && a[0]?.ClientStatus === 'running');
  assert.equal(allocs[0]?.TaskGroup, 'web');
  const fromEval = await sut.evaluations.allocations(reg.data.evalId, { namespace: ns });
  assert.deepEqual(fromEval.data.map((a) => a.ID), allocs.map((a) => a.ID));

  const dep = await until((q) => sut.jobs.latestDeployment(jobId, { ...q, namespace: ns }), (d) => d?.Status === 'successful');
  assert.ok(dep?.ID);
  const depAllocs = await sut.deployments.allocations(dep?.ID ?? '', { namespace: ns });
  assert.ok(depAllocs.data.length >= 1);

  const summary = await sut.jobs.summary(jobId, { namespace: ns });
  assert.equal(summary.data.Summary?.web?.Running, 1);
});

test('a blocking query waits for a change (scale) and answers with the new index', { timeout: 30_000 }, async () => {
  const before = await sut.jobs.info(jobId, { namespace: ns });
  const idle = performance.now();
  const unchanged = await sut.jobs.info(jobId, { namespace: ns, index: before.meta.lastIndex, wait: 200 });
  assert.ok(performance.now() - idle >= 150, 'the read blocked until wait expired');
  assert.equal(unchanged.meta.lastIndex, before.meta.lastIndex);

  const blocked = sut.jobs.info(jobId, { namespace: ns, index: before.meta.lastIndex, wait: 5000 });
  await new Promise((r) => setTimeout(r, 50));
  const scaled = await sut.jobs.scale(jobId, 'web', 2, { message: 'integration test' }, { namespace: ns });
  assert.ok(scaled.data.evalId);
  const changed = await blocked;
  assert.ok(changed.meta.lastIndex > before.meta.lastIndex);
  assert.equal(changed.data.TaskGroups?.[0]?.Count, 2);
});

test('EnforceIndex with a stale JobModifyIndex is a typed conflict', { timeout: 30_000 }, async () => {
  await assert.rejects(sut.jobs.register(serviceJobFactory(), { enforceIndex: true, modifyIndex: 1 }), NomadJobModifyIndexConflictError);
});

test('variables: check-and-set create, conflict carries the current variable', { timeout: 30_000 }, async () => {
  const path = `nomad/jobs/${jobId}`;
  const created = await sut.variables.upsert({ Path: path, Namespace: ns, Items: { 'dep1.A': '1' } }, { checkIndex: 0 });
  assert.equal(created.data.Path, path);
  const err = await sut.variables.upsert({ Path: path, Namespace: ns, Items: { 'dep1.A': '2' } }, { checkIndex: 0 }).then(() => null, (e: unknown) => e);
  assert.ok(err instanceof NomadCasConflictError);
  assert.equal(err.conflict?.Items?.['dep1.A'], '1');
  assert.equal((await sut.variables.read(path, { namespace: ns })).data.Items?.['dep1.A'], '1');
});

test('logs: framed log of a running allocation, decoded', { timeout: 30_000 }, async () => {
  const allocs = await sut.jobs.allocations(jobId, {}, { namespace: ns });
  const running = allocs.data.find((a) => a.ClientStatus === 'running');
  assert.ok(running?.ID);
  const res = await fetch(`${url}/__double/logs`, { method: 'POST', body: JSON.stringify({ allocId: running.ID, task: 'web', type: 'stdout', text: 'hello from the double\n' }) });
  assert.equal(res.status, 200);
  const got: LogChunk[] = [];
  for await (const c of await sut.fs.logs(running.ID, { task: 'web', type: 'stdout' }, { namespace: ns })) got.push(c);
  assert.match(Buffer.concat(got.map((c) => c.data)).toString('utf8'), /hello from the double\n$/);
});

test('event stream: replays Job events from an index', { timeout: 30_000 }, async () => {
  const ac = new AbortController();
  const types: string[] = [];
  for await (const b of sut.events.subscribe({ topics: { Job: [jobId] }, index: 1, namespace: ns, signal: AbortSignal.any([ac.signal, AbortSignal.timeout(5000)]) })) {
    for (const e of b.events) types.push(`${e.Topic}/${e.Type}`);
    if (types.includes('Job/JobRegistered')) ac.abort();
  }
  assert.ok(types.includes('Job/JobRegistered'), types.join(','));
});

test('canary deployment: a destructive update waits for promotion; promote completes it', { timeout: 30_000 }, async () => {
  const id = 'shop-prod-api-1b2c3d4e';
  const base = { ...serviceJobFactory(), ID: id, Name: id };
  // One canary for a count of one: the promoted deployment completes when its healthy allocations reach the total.
  const v1: Job = { ...base, Update: { ...base.Update, Canary: 1, AutoPromote: false } };
  await sut.jobs.register(v1);
  await until((q) => sut.jobs.latestDeployment(id, { ...q, namespace: ns }), (d) => d?.Status === 'successful');
  const v2: Job = { ...v1, TaskGroups: v1.TaskGroups?.map((g) => g && { ...g, Tasks: g.Tasks?.map((t) => t && { ...t, Config: { ...t.Config, image: 'nginx:1.28' } }) }) };
  await sut.jobs.register(v2);
  const waiting = await until((q) => sut.jobs.latestDeployment(id, { ...q, namespace: ns }), (d) => d?.JobVersion === 1 && (d.TaskGroups?.web?.HealthyAllocs ?? 0) >= 1 && d.Status === 'running');
  assert.equal(waiting?.TaskGroups?.web?.DesiredCanaries, 1);
  const promoted = await sut.deployments.promote(waiting?.ID ?? '', 'all', { namespace: ns });
  assert.ok(promoted.data.EvalID);
  assert.ok((promoted.data.DeploymentModifyIndex ?? 0) > 0);
  // The progress deadline restarts on promotion (as in Nomad), so the promoted deployment completes.
  const after = await until((q) => sut.deployments.info(waiting?.ID ?? '', { ...q, namespace: ns }), (d) => d.Status !== 'running');
  assert.equal(after.ID, waiting?.ID);
  assert.equal(after.Status, 'successful', after.StatusDescription);
  assert.equal(after.TaskGroups?.web?.Promoted, true);
  await sut.jobs.deregister(id, { purge: true }, { namespace: ns });
});

test('cluster handles: host volume create/list/get/delete, alloc stats/restart/stop, periodic force, dispatch, ACL policy', { timeout: 30_000 }, async () => {
  const vol = await sut.hostVolumes.create({ Name: 'dv-shop-prod-web-data-0a1b2c3d', Namespace: ns, PluginID: 'mkdir', NodePool: 'default', RequestedCapabilities: [{ AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' }] });
  const volId = vol.data.volume?.ID ?? '';
  assert.ok(volId);
  assert.ok((await sut.hostVolumes.list({}, { namespace: ns })).data.some((v) => v.ID === volId));
  assert.equal((await sut.hostVolumes.get(volId, { namespace: ns })).data.Name, 'dv-shop-prod-web-data-0a1b2c3d');
  await sut.hostVolumes.delete(volId, { namespace: ns });
  await assert.rejects(sut.hostVolumes.get(volId, { namespace: ns }), (e: unknown) => isNomadNotFound(e));

  const running = (await sut.jobs.allocations(jobId, {}, { namespace: ns })).data.find((a) => a.ClientStatus === 'running');
  assert.ok(running?.ID);
  const stats = await sut.allocations.stats(running.ID);
  assert.ok((stats.data.ResourceUsage?.MemoryStats?.RSS ?? 0) > 0);
  await sut.allocations.restart(running.ID, { task: 'web' });
  const stopped = await sut.allocations.stop(running.ID);
  assert.ok(stopped.data.EvalID);

  const batch = (id: string, extra: Partial<Job>): Job => ({ ID: id, Name: id, Namespace: ns, Type: 'batch', Datacenters: ['*'], TaskGroups: [{ Name: 'run', Count: 1, Tasks: [{ Name: 'run', Driver: 'docker', Config: { image: 'busybox:1.36' }, Resources: { CPU: 100, MemoryMB: 64 } }] }], ...extra });
  const cron = await sut.jobs.register(batch('shop-prod-cron-2c3d4e5f', { Periodic: { Enabled: true, Specs: ['*/5 * * * *'], SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'UTC' } }));
  assert.equal(cron.data.evalId, '', 'a periodic parent creates no evaluation');
  assert.ok((await sut.jobs.periodicForce('shop-prod-cron-2c3d4e5f', { namespace: ns })).data.EvalID);
  await sut.jobs.register(batch('shop-prod-task-3d4e5f60', { ParameterizedJob: { Payload: 'optional', MetaOptional: ['run'] } }));
  const d = await sut.jobs.dispatch('shop-prod-task-3d4e5f60', { payload: Buffer.from('{}'), meta: { run: '1' } }, { namespace: ns, idempotencyToken: 'run-1' });
  assert.match(d.data.DispatchedJobID ?? '', /^shop-prod-task-3d4e5f60\/dispatch-/);

  await sut.aclPolicies.upsert({ Name: 'drover-t-acme', Rules: `namespace "${ns}" { policy = "read" }` });
  assert.equal((await sut.aclPolicies.info('drover-t-acme')).data.Rules, `namespace "${ns}" { policy = "read" }`);
  await sut.aclPolicies.delete('drover-t-acme');
  assert.equal(await sut.status.leader(), '127.0.0.1:4647');
});

async function faults(body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${url}/__double/faults`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.status, 200);
}

test('faults: leader loss exhausts the bounded read retries as a retryable 500; 503s are retried through', { timeout: 30_000 }, async () => {
  const calls = double.calls.length;
  await faults({ leaderLoss: true });
  const err = await sut.jobs.info(jobId, { namespace: ns }).then(() => null, (e: unknown) => e);
  await faults({});
  assert.ok(err instanceof NomadUnexpectedResponseError);
  assert.equal(err.status, 500);
  assert.equal(err.retryable, true);
  assert.equal(isNomadNotFound(err), false);
  assert.equal(double.calls.length - calls, 3, 'maxAttempts reads, no more');

  const before = double.calls.length;
  await faults({ errorRate: 1, pathPrefix: '/v1/job/' });
  const refused = await sut.jobs.scale(jobId, 'web', 3, {}, { namespace: ns }).then(() => null, (e: unknown) => e);
  await faults({});
  assert.ok(refused instanceof NomadUnexpectedResponseError && refused.status === 503);
  assert.equal(double.calls.length - before, 1, 'the write was sent once, not retried');
});

test('faults: after an index reset (snapshot restore) a watch resets to 0 and keeps following', { timeout: 30_000 }, async () => {
  // A double of its own, settled: the restore takes the index below every index a read reported, then it grows again.
  const own = new NomadDoubleServer(new NomadState({ stepMs: 10 }), { token });
  const ownUrl = await own.listen();
  const client = new NomadClient({ address: ownUrl, token, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
  try {
    await client.jobs.register({ ...serviceJobFactory(), Namespace: 'default' });
    await until((q) => client.jobs.latestDeployment(jobId, q), (d) => d?.Status === 'successful');
    const start = await client.jobs.list();
    const ac = new AbortController();
    const seen: number[] = [];
    const done = (async () => {
      for await (const r of watch((q) => client.jobs.list(q), { index: start.meta.lastIndex, wait: 2000, signal: ac.signal })) {
        seen.push(r.meta.lastIndex);
        if (seen.length === 1) await client.jobs.scale(jobId, 'web', 2);
        if (seen.length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 50));
    const res = await fetch(`${ownUrl}/__double/faults`, { method: 'POST', body: JSON.stringify({ indexReset: true }) });
    assert.equal(res.status, 200);
    await done;
    assert.ok((seen[0] ?? Infinity) < start.meta.lastIndex, `index went backwards: ${seen.join(',')} < ${start.meta.lastIndex}`);
    const indexes = own.calls.filter((c) => c.method === 'GET' && c.path === '/v1/jobs').map((c) => new URLSearchParams(c.query).get('index')).slice(1);
    assert.equal(indexes[0], String(start.meta.lastIndex));
    assert.equal(indexes[1], null, 'the read after the reset is non-blocking (index 0)');
    assert.ok(indexes.length === 2 || indexes[2] === String(seen[0]), 'then it blocks on the new, lower index');
    assert.ok((seen[1] ?? 0) > (seen[0] ?? 0), `${seen.join(',')} / requests ${indexes.join(',')}`);
  } finally {
    await client.destroy();
    await own.close();
    own.state.close();
  }
});

test('deregister with purge, then the job is a 404, not an outage', { timeout: 30_000 }, async () => {
  await sut.jobs.deregister(jobId, { purge: true }, { namespace: ns });
  await assert.rejects(sut.jobs.info(jobId, { namespace: ns }), (e: unknown) => isNomadNotFound(e));
});
