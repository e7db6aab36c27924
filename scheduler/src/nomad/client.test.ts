import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { NomadClient } from './client.ts';
import type { NomadClientConfig } from './config.ts';
import {
  NomadCasConflictError, NomadConnectionError, NomadUnexpectedResponseError, isNomadNotFound,
} from './errors.ts';
import { NomadJobModifyIndexConflictError, parseNomadWarnings } from './jobs.ts';
import { nextBlockingIndex, watch } from './blocking.ts';
import { listAll } from './pagination.ts';
import { sendJson, startTestServer } from './test-server.ts';
import type { RecordedRequest, TestServer } from './test-server.ts';
import { validateNomad } from '../contracts/index.ts';
import type { Job } from './types.ts';

const fastRetry = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20 };

function jobFactory(over: Partial<Job> = {}): Job {
  return {
    ID: 'shop-prod-web-0a1b2c3d',
    Name: 'shop-prod-web-0a1b2c3d',
    Namespace: 't-acme-0a1b2c3d',
    Type: 'service',
    Datacenters: ['*'],
    Meta: { 'drover.team': 'team-1' },
    TaskGroups: [{ Name: 'web', Count: 1, Tasks: [{ Name: 'web', Driver: 'docker', Config: { image: 'nginx:1.27' } }] }],
    ...over,
  };
}

async function withServer(handler: (req: RecordedRequest, res: ServerResponse) => void | Promise<void>, cfg: Partial<NomadClientConfig> = {}): Promise<{ server: TestServer; sut: NomadClient }> {
  const server = await startTestServer(handler);
  const sut = new NomadClient({ address: server.url, token: 'nomad-secret', retry: fastRetry, ...cfg });
  after(async () => {
    await sut.destroy();
    await server.close();
  });
  return { server, sut };
}

function only<T>(xs: T[]): T {
  assert.equal(xs.length, 1, `expected exactly one, got ${xs.length}`);
  return xs[0] as T;
}

describe('reads', () => {
  test('QueryOptions become Nomad query parameters and the token header; QueryMeta comes from X-Nomad-* headers', async () => {
    const { server, sut } = await withServer((_req, res) => sendJson(res, 200, [], {
      'X-Nomad-Index': '42', 'X-Nomad-KnownLeader': 'true', 'X-Nomad-LastContact': '7', 'X-Nomad-NextToken': 'page-2',
    }), { namespace: 'default-ns', region: 'default-region' });
    const r = await sut.jobs.list({ namespace: 't-acme-0a1b2c3d', region: 'eu', index: 41, wait: 1500, filter: 'Status == "running"', perPage: 20, nextToken: 'page-1', stale: true, prefix: 'shop' });
    assert.deepEqual(r.data, []);
    assert.equal(r.meta.lastIndex, 42);
    assert.equal(r.meta.knownLeader, true);
    assert.equal(r.meta.lastContact, 7);
    assert.equal(r.meta.nextToken, 'page-2');
    const req = only(server.requests);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/v1/jobs');
    assert.deepEqual(Object.fromEntries(req.query), {
      namespace: 't-acme-0a1b2c3d', region: 'eu', index: '41', wait: '1500ms', filter: 'Status == "running"', per_page: '20', next_token: 'page-1', stale: '', prefix: 'shop',
    });
    assert.equal(req.headers['x-nomad-token'], 'nomad-secret');
  });

  test('the client default namespace and region apply when a call names none; authToken overrides the token', async () => {
    const { server, sut } = await withServer((_req, res) => sendJson(res, 200, { Name: 'x' }), { namespace: 'ns-a', region: 'r-a' });
    await sut.namespaces.info('x', { authToken: 'management' });
    const req = only(server.requests);
    assert.equal(req.path, '/v1/namespace/x');
    assert.equal(req.query.get('namespace'), 'ns-a');
    assert.equal(req.query.get('region'), 'r-a');
    assert.equal(req.headers['x-nomad-token'], 'management');
  });

  test('IDs are path-escaped: a job ID cannot add path segments or a query', async () => {
    const { server, sut } = await withServer((_req, res) => sendJson(res, 404, undefined));
    await assert.rejects(sut.jobs.info('../acl/tokens?x=1'));
    assert.equal(only(server.requests).path, '/v1/job/..%2Facl%2Ftokens%3Fx%3D1');
  });

  test('a 404 is a not-found error, not retried, and distinguishable from an outage', async () => {
    const { server, sut } = await withServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('job not found');
    });
    const err = await sut.jobs.info('missing').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof NomadUnexpectedResponseError);
    assert.equal(isNomadNotFound(err), true);
    assert.equal(err.status, 404);
    assert.equal(err.body, 'job not found');
    assert.equal(err.method, 'GET');
    assert.equal(err.path, '/v1/job/missing');
    assert.deepEqual(err.expectedStatuses, [200]);
    assert.equal(err.retryable, false);
    assert.equal(err.code, 'nomad/not_found');
    assert.equal(server.requests.length, 1);
  });

  test('idempotent reads retry 5xx and 429 with backoff, then succeed', async () => {
    let n = 0;
    const { server, sut } = await withServer((_req, res) => {
      n++;
      if (n === 1) return sendJson(res, 503, { error: 'no leader' });
      if (n === 2) return sendJson(res, 429, { error: 'slow down' });
      return sendJson(res, 200, { ID: 'e1' }, { 'X-Nomad-Index': '9' });
    });
    const r = await sut.evaluations.info('e1');
    assert.equal(r.data.ID, 'e1');
    assert.equal(server.requests.length, 3);
  });

  test('retries are bounded: a persistent 500 ends as a retryable typed error after maxAttempts', async () => {
    const { server, sut } = await withServer((_req, res) => {
      res.writeHead(500);
      res.end('rpc error: No cluster leader');
    });
    const err = await sut.allocations.info('a1').then(() => null, (e: unknown) => e);
    assert.ok(err instanceof NomadUnexpectedResponseError);
    assert.equal(err.retryable, true);
    assert.equal(isNomadNotFound(err), false);
    assert.equal(server.requests.length, fastRetry.maxAttempts);
  });

  test('a connection reset is retried; a refused connection ends as NomadConnectionError', async () => {
    let n = 0;
    const { server, sut } = await withServer((req, res) => {
      n++;
      if (n === 1) return void req.socket.destroy();
      sendJson(res, 200, [{ ID: 'n1' }]);
    });
    const r = await sut.nodes.list();
    assert.equal(r.data[0]?.ID, 'n1');
    assert.equal(server.requests.length, 2);

    const dead = await startTestServer(() => undefined);
    const url = dead.url;
    await dead.close();
    const refused = new NomadClient({ address: url, retry: fastRetry });
    const err = await refused.status.leader().then(() => null, (e: unknown) => e);
    await refused.destroy();
    assert.ok(err instanceof NomadConnectionError);
    assert.equal(err.code, 'nomad/unreachable');
    assert.equal(isNomadNotFound(err), false);
  });

  test('an abort stops a read during backoff', async () => {
    const { server, sut } = await withServer((_req, res) => sendJson(res, 503, {}), { retry: { maxAttempts: 10, baseDelayMs: 10_000, maxDelayMs: 10_000 } });
    const ac = new AbortController();
    const p = sut.jobs.summary('j', { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(p, (e: unknown) => (e as Error).name === 'AbortError');
    assert.ok(server.requests.length <= 2);
  });

  test('keep-alive: sequential requests reuse pooled connections', async () => {
    const { server, sut } = await withServer((_req, res) => sendJson(res, 200, '10.0.0.1:4647'));
    for (let i = 0; i < 20; i++) assert.equal(await sut.status.leader(), '10.0.0.1:4647');
    assert.ok(server.connections() <= 2, `${server.connections()} connections for 20 requests`);
  });
});

describe('pagination', () => {
  test('listAll follows X-Nomad-NextToken with per_page and keeps the filter on every page', async () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const { server, sut } = await withServer((req, res) => {
      const per = Number(req.query.get('per_page'));
      const from = req.query.get('next_token') ?? 'a';
      const page = ids.filter((i) => i >= from).slice(0, per);
      const next = ids.filter((i) => i >= from)[per];
      sendJson(res, 200, page.map((ID) => ({ ID })), next ? { 'X-Nomad-NextToken': next } : {});
    });
    const all = await listAll((q) => sut.variables.list(q), { perPage: 2, filter: 'Path matches "x"' });
    assert.deepEqual(all.map((v) => (v as { ID?: string }).ID), ids);
    assert.deepEqual(server.requests.map((r) => [r.query.get('per_page'), r.query.get('next_token'), r.query.get('filter')]), [['2', null, 'Path matches "x"'], ['2', 'c', 'Path matches "x"'], ['2', 'e', 'Path matches "x"']]);
  });
});

describe('blocking queries', () => {
  test('a slow blocking response is awaited beyond the default timeouts', async () => {
    const { server, sut } = await withServer(async (req, res) => {
      if (req.query.get('index') === '10') await new Promise((r) => setTimeout(r, 400));
      sendJson(res, 200, [], { 'X-Nomad-Index': '11' });
    }, { headersTimeoutMs: 100 });
    const r = await sut.jobs.allocations('j', { all: true }, { index: 10, wait: 2000 });
    assert.equal(r.meta.lastIndex, 11);
    const req = only(server.requests);
    assert.equal(req.query.get('all'), 'true');
    assert.equal(req.query.get('wait'), '2000ms');
  });

  test('nextBlockingIndex resets to 0 when the index goes backwards', () => {
    const meta = (lastIndex: number) => ({ lastIndex, knownLeader: true, lastContact: 0, requestTimeMs: 0 });
    assert.equal(nextBlockingIndex(10, meta(12)), 12);
    assert.equal(nextBlockingIndex(10, meta(10)), 10);
    assert.equal(nextBlockingIndex(10, meta(3)), 0);
  });

  test('watch blocks on the last index, yields only changes, and resets to 0 when the index goes backwards', async () => {
    const indexes = [5, 5, 8, 2, 3];
    let n = 0;
    const { server, sut } = await withServer((_req, res) => {
      const i = indexes[Math.min(n++, indexes.length - 1)] as number;
      sendJson(res, 200, { ID: 'd1', ModifyIndex: i }, { 'X-Nomad-Index': String(i) });
    });
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const r of watch((q) => sut.deployments.info('d1', q), { wait: 1000, signal: ac.signal })) {
      seen.push(r.meta.lastIndex);
      if (seen.length === 4) ac.abort();
    }
    assert.deepEqual(seen, [5, 8, 2, 3]);
    assert.deepEqual(server.requests.map((r) => r.query.get('index')), [null, '5', '5', '8', null].slice(0, server.requests.length));
    assert.ok(server.requests.every((r) => r.query.get('wait') === '1000ms'));
  });
});

describe('writes', () => {
  test('register sends a JobRegisterRequest the contract accepts, with EnforceIndex, JobModifyIndex and Submission, and returns the warnings', async () => {
    const { server, sut } = await withServer((_req, res) => sendJson(res, 200, {
      EvalID: 'eval-1', EvalCreateIndex: 12, JobModifyIndex: 12,
      Warnings: '1 warning:\n\n* Group "web" task "web": memory_max requires memory oversubscription',
    }, { 'X-Nomad-Index': '12' }));
    const job = jobFactory();
    const r = await sut.jobs.register(job, { enforceIndex: true, modifyIndex: 0, submission: { Format: 'json', Source: JSON.stringify(job) } });
    assert.deepEqual(r.data, { evalId: 'eval-1', evalCreateIndex: 12, jobModifyIndex: 12, warnings: ['Group "web" task "web": memory_max requires memory oversubscription'] });
    assert.equal(r.meta.lastIndex, 12);
    const req = only(server.requests);
    assert.equal(req.method, 'PUT');
    assert.equal(req.path, '/v1/jobs');
    assert.equal(req.query.get('namespace'), 't-acme-0a1b2c3d');
    assert.deepEqual(validateNomad('JobRegisterRequest', req.json), []);
    assert.deepEqual(req.json, { Job: job, EnforceIndex: true, JobModifyIndex: 0, Submission: { Format: 'json', Source: JSON.stringify(job) } });
    assert.equal(req.headers['content-type'], 'application/json');
  });

  test('a register refused by EnforceIndex is a typed conflict; writes are never retried', async () => {
    const { server, sut } = await withServer((_req, res) => {
      res.writeHead(500);
      res.end('Enforcing job modify index 3: job exists with conflicting job modify index: 5');
    });
    await assert.rejects(sut.jobs.register(jobFactory(), { enforceIndex: true, modifyIndex: 3 }), (e: unknown) =>
      e instanceof NomadJobModifyIndexConflictError && e.expectedIndex === 3 && e.code === 'nomad/job_modify_index_conflict');
    assert.equal(server.requests.length, 1);
    await assert.rejects(sut.jobs.register(jobFactory()), (e: unknown) => e instanceof NomadUnexpectedResponseError && e.status === 500);
    assert.equal(server.requests.length, 2);
  });

  test('a write whose connection resets is not retried', async () => {
    const { server, sut } = await withServer((req) => void req.socket.destroy());
    await assert.rejects(sut.jobs.deregister('j', { purge: true }), NomadConnectionError);
    assert.equal(server.requests.length, 1);
  });

  test('dispatch with an idempotency token is retried (Nomad de-duplicates by token); without one it is sent once', async () => {
    let n = 0;
    const { server, sut } = await withServer((req, res) => {
      n++;
      if (n === 1 || n === 3) return void req.socket.destroy();
      sendJson(res, 200, { DispatchedJobID: 'p/dispatch-1', EvalID: 'e' });
    });
    const r = await sut.jobs.dispatch('p', {}, { idempotencyToken: 'deploy-42' });
    assert.equal(r.data.DispatchedJobID, 'p/dispatch-1');
    assert.deepEqual(server.requests.map((q) => q.query.get('idempotency_token')), ['deploy-42', 'deploy-42']);
    await assert.rejects(sut.jobs.dispatch('p'), NomadConnectionError);
    assert.equal(server.requests.length, 3);
  });

  test('parseNomadWarnings splits multierror text and keeps a plain one', () => {
    assert.deepEqual(parseNomadWarnings(''), []);
    assert.deepEqual(parseNomadWarnings('2 warnings:\n\n* a\n* b\n\n'), ['a', 'b']);
    assert.deepEqual(parseNomadWarnings('plain warning'), ['plain warning']);
  });

  interface Case {
    name: string;
    call: (c: NomadClient) => Promise<unknown>;
    method: string;
    path: string;
    query?: Record<string, string>;
    bodyDef?: string;
    body?: unknown;
    respond?: unknown;
  }
  const job = jobFactory();
  const cases: Case[] = [
    { name: 'plan with diff', call: (c) => c.jobs.plan(job, { diff: true }), method: 'PUT', path: `/v1/job/${job.ID}/plan`, bodyDef: 'JobPlanRequest', body: { Job: job, Diff: true } },
    { name: 'validate', call: (c) => c.jobs.validate(job), method: 'PUT', path: '/v1/validate/job', bodyDef: 'JobValidateRequest', body: { Job: job } },
    { name: 'parse HCL', call: (c) => c.jobs.parseHCL('job "x" {}', { canonicalize: true }), method: 'PUT', path: '/v1/jobs/parse', bodyDef: 'JobsParseRequest', body: { JobHCL: 'job "x" {}', Canonicalize: true } },
    { name: 'versions with diffs', call: (c) => c.jobs.versions('j', { diffs: true }), method: 'GET', path: '/v1/job/j/versions', query: { diffs: 'true' } },
    { name: 'submission', call: (c) => c.jobs.submission('j', 3), method: 'GET', path: '/v1/job/j/submission', query: { version: '3' } },
    { name: 'revert', call: (c) => c.jobs.revert('j', 2, { enforcePriorVersion: 4 }), method: 'PUT', path: '/v1/job/j/revert', bodyDef: 'JobRevertRequest', body: { JobID: 'j', JobVersion: 2, EnforcePriorVersion: 4 } },
    { name: 'scale', call: (c) => c.jobs.scale('j', 'web', 3, { message: 'by drover' }), method: 'PUT', path: '/v1/job/j/scale', bodyDef: 'ScalingRequest', body: { Count: 3, Target: { Job: 'j', Group: 'web' }, Message: 'by drover' } },
    { name: 'scale status', call: (c) => c.jobs.scaleStatus('j'), method: 'GET', path: '/v1/job/j/scale' },
    { name: 'deregister with purge', call: (c) => c.jobs.deregister('j', { purge: true }), method: 'DELETE', path: '/v1/job/j', query: { purge: 'true' } },
    { name: 'periodic force', call: (c) => c.jobs.periodicForce('cron-j'), method: 'PUT', path: '/v1/job/cron-j/periodic/force' },
    { name: 'dispatch with idempotency token', call: (c) => c.jobs.dispatch('p', { payload: Buffer.from('hi'), meta: { k: 'v' } }, { idempotencyToken: 'tok-1' }), method: 'PUT', path: '/v1/job/p/dispatch', query: { idempotency_token: 'tok-1' }, bodyDef: 'JobDispatchRequest', body: { JobID: 'p', Payload: 'aGk=', Meta: { k: 'v' } } },
    { name: 'summary', call: (c) => c.jobs.summary('j'), method: 'GET', path: '/v1/job/j/summary' },
    { name: 'job evaluations', call: (c) => c.jobs.evaluations('j'), method: 'GET', path: '/v1/job/j/evaluations', respond: [] },
    { name: 'job deployments', call: (c) => c.jobs.deployments('j', { all: true }), method: 'GET', path: '/v1/job/j/deployments', query: { all: 'true' }, respond: [] },
    { name: 'latest deployment', call: (c) => c.jobs.latestDeployment('j'), method: 'GET', path: '/v1/job/j/deployment', respond: null },
    { name: 'eval allocations', call: (c) => c.evaluations.allocations('e'), method: 'GET', path: '/v1/evaluation/e/allocations', respond: [] },
    { name: 'deployment allocations', call: (c) => c.deployments.allocations('d'), method: 'GET', path: '/v1/deployment/allocations/d', respond: [] },
    { name: 'promote all', call: (c) => c.deployments.promote('d'), method: 'PUT', path: '/v1/deployment/promote/d', bodyDef: 'DeploymentPromoteRequest', body: { DeploymentID: 'd', All: true } },
    { name: 'promote groups', call: (c) => c.deployments.promote('d', ['web']), method: 'PUT', path: '/v1/deployment/promote/d', bodyDef: 'DeploymentPromoteRequest', body: { DeploymentID: 'd', Groups: ['web'] } },
    { name: 'fail deployment', call: (c) => c.deployments.fail('d'), method: 'PUT', path: '/v1/deployment/fail/d', bodyDef: 'DeploymentFailRequest', body: { DeploymentID: 'd' } },
    { name: 'alloc list', call: (c) => c.allocations.list({ taskStates: true }, { filter: 'JobID == "j"' }), method: 'GET', path: '/v1/allocations', query: { task_states: 'true', filter: 'JobID == "j"' }, respond: [] },
    { name: 'alloc restart', call: (c) => c.allocations.restart('a', { task: 'web' }), method: 'PUT', path: '/v1/client/allocation/a/restart', bodyDef: 'AllocationRestartRequest', body: { TaskName: 'web' } },
    { name: 'alloc stop', call: (c) => c.allocations.stop('a'), method: 'PUT', path: '/v1/allocation/a/stop' },
    { name: 'alloc stats', call: (c) => c.allocations.stats('a'), method: 'GET', path: '/v1/client/allocation/a/stats' },
    { name: 'node info', call: (c) => c.nodes.info('n'), method: 'GET', path: '/v1/node/n' },
    { name: 'host volume create', call: (c) => c.hostVolumes.create({ Name: 'dv-shop-data-0a1b2c3d', Namespace: 't-acme-0a1b2c3d', PluginID: 'mkdir', NodePool: 'default', RequestedCapabilities: [{ AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' }] }), method: 'PUT', path: '/v1/volume/host/create', query: { namespace: 't-acme-0a1b2c3d' }, bodyDef: 'HostVolumeCreateRequest' },
    { name: 'host volume list', call: (c) => c.hostVolumes.list({ nodeId: 'n1' }), method: 'GET', path: '/v1/volumes', query: { type: 'host', node_id: 'n1' }, respond: [] },
    { name: 'host volume get', call: (c) => c.hostVolumes.get('v1'), method: 'GET', path: '/v1/volume/host/v1' },
    { name: 'host volume delete', call: (c) => c.hostVolumes.delete('v1'), method: 'DELETE', path: '/v1/volume/host/v1' },
    { name: 'variable read', call: (c) => c.variables.read('nomad/jobs/j'), method: 'GET', path: '/v1/var/nomad/jobs/j' },
    { name: 'variable upsert with cas', call: (c) => c.variables.upsert({ Path: 'nomad/jobs/j', Namespace: 'ns', Items: { 'dep1.KEY': 'v' } }, { checkIndex: 0 }), method: 'PUT', path: '/v1/var/nomad/jobs/j', query: { cas: '0', namespace: 'ns' }, bodyDef: 'Variable', body: { Path: 'nomad/jobs/j', Namespace: 'ns', Items: { 'dep1.KEY': 'v' } } },
    { name: 'variable delete with cas', call: (c) => c.variables.delete('nomad/jobs/j', { checkIndex: 7 }), method: 'DELETE', path: '/v1/var/nomad/jobs/j', query: { cas: '7' } },
    { name: 'variable list', call: (c) => c.variables.list({ prefix: 'nomad/jobs/' }), method: 'GET', path: '/v1/vars', query: { prefix: 'nomad/jobs/' }, respond: [] },
    { name: 'namespace list', call: (c) => c.namespaces.list(), method: 'GET', path: '/v1/namespaces', respond: [] },
    { name: 'namespace register', call: (c) => c.namespaces.register({ Name: 't-acme-0a1b2c3d', Description: 'team acme', Meta: { 'drover.team': 'team-1' } }, { authToken: 'mgmt' }), method: 'PUT', path: '/v1/namespace', bodyDef: 'Namespace', body: { Name: 't-acme-0a1b2c3d', Description: 'team acme', Meta: { 'drover.team': 'team-1' } } },
    { name: 'namespace delete', call: (c) => c.namespaces.delete('t-acme-0a1b2c3d'), method: 'DELETE', path: '/v1/namespace/t-acme-0a1b2c3d' },
    { name: 'acl policy upsert', call: (c) => c.aclPolicies.upsert({ Name: 'drover-t-acme', Rules: 'namespace "t-acme" { policy = "read" }' }), method: 'PUT', path: '/v1/acl/policy/drover-t-acme', bodyDef: 'ACLPolicy', body: { Name: 'drover-t-acme', Rules: 'namespace "t-acme" { policy = "read" }' } },
    { name: 'acl policy info', call: (c) => c.aclPolicies.info('drover-t-acme'), method: 'GET', path: '/v1/acl/policy/drover-t-acme' },
    { name: 'acl policy delete', call: (c) => c.aclPolicies.delete('drover-t-acme'), method: 'DELETE', path: '/v1/acl/policy/drover-t-acme' },
  ];
  for (const c of cases) {
    test(`${c.name}: ${c.method} ${c.path}`, async () => {
      const { server, sut } = await withServer((_req, res) => sendJson(res, 200, c.respond === undefined ? {} : c.respond));
      await c.call(sut);
      const req = only(server.requests);
      assert.equal(req.method, c.method);
      assert.equal(req.path, c.path);
      for (const [k, v] of Object.entries(c.query ?? {})) assert.equal(req.query.get(k), v, `query ${k}`);
      if (c.bodyDef) assert.deepEqual(validateNomad(c.bodyDef, req.json), [], `${c.bodyDef} contract`);
      if (c.body !== undefined) assert.deepEqual(req.json, c.body);
      if (!c.bodyDef && c.body === undefined) assert.equal(req.text, '');
    });
  }

  test('a variable check-and-set conflict is NomadCasConflictError carrying the current variable', async () => {
    const current = { Path: 'nomad/jobs/j', Namespace: 'ns', ModifyIndex: 9, Items: { a: 'b' } };
    const { sut } = await withServer((_req, res) => sendJson(res, 409, current));
    const err = await sut.variables.upsert({ Path: 'nomad/jobs/j', Items: { a: 'c' } }, { checkIndex: 3 }).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof NomadCasConflictError);
    assert.equal(err.checkIndex, 3);
    assert.deepEqual(err.conflict, current);
    assert.deepEqual(validateNomad('Variable', err.conflict), []);
  });

  test('variables.peek resolves to null for a missing path but throws on an outage', async () => {
    let n = 0;
    const { sut } = await withServer((_req, res) => (n++ === 0 ? sendJson(res, 404, undefined) : sendJson(res, 503, {})));
    assert.equal((await sut.variables.peek('nomad/jobs/j')).data, null);
    await assert.rejects(sut.variables.peek('nomad/jobs/j'), (e: unknown) => e instanceof NomadUnexpectedResponseError && e.status === 503);
    assert.throws(() => sut.variables.read('nomad/../acl'), TypeError);
  });

  test('host volumes offer no register (it accepts any host path); the client offers no alloc exec', () => {
    const sut = new NomadClient({ address: 'http://127.0.0.1:1' });
    const volumeMethods = Object.getOwnPropertyNames(Object.getPrototypeOf(sut.hostVolumes));
    assert.deepEqual(volumeMethods.filter((m) => m !== 'constructor').sort(), ['create', 'delete', 'get', 'list']);
    const allocMethods = Object.getOwnPropertyNames(Object.getPrototypeOf(sut.allocations));
    assert.ok(!allocMethods.some((m) => /exec/i.test(m)), allocMethods.join(','));
  });

  test('host volume create returns the volume and its warnings', async () => {
    const { sut } = await withServer((_req, res) => sendJson(res, 200, { Volume: { ID: 'v1', Name: 'dv-x', State: 'ready' }, Warnings: '1 warning:\n\n* capacity ignored' }));
    const r = await sut.hostVolumes.create({ Name: 'dv-x', PluginID: 'mkdir' });
    assert.deepEqual(r.data, { volume: { ID: 'v1', Name: 'dv-x', State: 'ready' }, warnings: ['capacity ignored'] });
  });
});

describe('streams', () => {
  test('logs: framed frames split anywhere by the server are decoded, with rotation and truncation events', async () => {
    const frames = [
      {},
      { Offset: 6, Data: Buffer.from('hello\n').toString('base64'), File: 'alloc/logs/web.stdout.0' },
      {},
      { Offset: 0, File: 'alloc/logs/web.stdout.0', FileEvent: 'file truncated' },
      { Offset: 4, Data: Buffer.from('é!\n').toString('base64'), File: 'alloc/logs/web.stdout.1' },
    ];
    const wire = Buffer.from(frames.map((f) => JSON.stringify(f)).join(''));
    const { server, sut } = await withServer(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < wire.length; i += 5) {
        res.write(wire.subarray(i, i + 5));
        await new Promise((r) => setImmediate(r));
      }
      res.end();
    });
    const got = [];
    for await (const c of await sut.fs.logs('alloc-1', { task: 'web', type: 'stdout', follow: true, origin: 'end', offset: 100 })) got.push(c);
    assert.deepEqual(got, [
      { file: 'alloc/logs/web.stdout.0', offset: 6, data: Buffer.from('hello\n') },
      { file: 'alloc/logs/web.stdout.0', offset: 0, data: Buffer.alloc(0), event: 'file truncated' },
      { file: 'alloc/logs/web.stdout.1', offset: 4, data: Buffer.from('é!\n') },
    ]);
    const req = only(server.requests);
    assert.equal(req.path, '/v1/client/fs/logs/alloc-1');
    assert.deepEqual(Object.fromEntries(req.query), { task: 'web', type: 'stdout', follow: 'true', origin: 'end', offset: '100' });
  });

  test('logs: a followed log keeps streaming through heartbeats until the caller aborts, which closes the connection', async () => {
    let closed = false;
    const { sut } = await withServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(JSON.stringify({ Offset: 2, Data: Buffer.from('a\n').toString('base64'), File: 'alloc/logs/web.stdout.0' }));
      const beat = setInterval(() => res.write('{}'), 10);
      req.socket.on('close', () => {
        closed = true;
        clearInterval(beat);
      });
    });
    const ac = new AbortController();
    const got = [];
    await assert.rejects((async () => {
      for await (const c of await sut.fs.logs('a', { task: 'web', type: 'stdout', follow: true }, { signal: ac.signal })) {
        got.push(c);
        setTimeout(() => ac.abort(), 50);
      }
    })(), (e: unknown) => (e as Error).name === 'AbortError');
    assert.equal(got.length, 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, true);
  });

  test('logs: plain mode yields raw bytes with running offsets', async () => {
    const { server, sut } = await withServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('line 1\nline 2\n');
    });
    const got = [];
    for await (const c of await sut.fs.logs('a', { task: 'web', type: 'stderr', plain: true })) got.push(c);
    assert.equal(Buffer.concat(got.map((c) => c.data)).toString(), 'line 1\nline 2\n');
    assert.equal(got.at(-1)?.offset, 14);
    assert.equal(only(server.requests).query.get('plain'), 'true');
  });

  test('event stream: topics and index are sent; after a dropped connection it resumes from the last index + 1 without repeats', async () => {
    const batch = (i: number) => `${JSON.stringify({ Index: i, Events: [{ Topic: 'Deployment', Type: 'DeploymentStatusUpdate', Key: `d${i}`, Index: i, Payload: {} }] })}\n`;
    let n = 0;
    const { server, sut } = await withServer(async (req, res) => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      if (n === 1) {
        res.write(`{}\n${batch(10)}${batch(11)}`);
        await new Promise((r) => setTimeout(r, 20));
        req.socket.destroy();
        return;
      }
      res.write(`${batch(11)}{}\n${batch(12)}`);
      await new Promise((r) => setTimeout(r, 20));
      res.end();
    });
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const b of sut.events.subscribe({ topics: { Deployment: ['*'], Allocation: ['a1', 'a2'] }, index: 10, namespace: 't-acme', signal: ac.signal })) {
      seen.push(b.index);
      assert.deepEqual(validateNomad('Events', { Index: b.index, Events: b.events }), []);
      if (b.index === 12) ac.abort();
    }
    assert.deepEqual(seen, [10, 11, 12]);
    assert.equal(server.requests.length, 2);
    const [first, second] = server.requests as [RecordedRequest, RecordedRequest];
    assert.equal(first.path, '/v1/event/stream');
    assert.deepEqual(first.query.getAll('topic'), ['Deployment:*', 'Allocation:a1', 'Allocation:a2']);
    assert.equal(first.query.get('index'), '10');
    assert.equal(first.query.get('namespace'), 't-acme');
    assert.equal(second.query.get('index'), '12');
  });

  test('event stream: a connection that goes silent (no heartbeat) is treated as dead and resumed', async () => {
    let n = 0;
    const { server, sut } = await withServer((_req, res) => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`${JSON.stringify({ Index: 20 + n, Events: [{ Topic: 'Job', Type: 'JobRegistered', Key: 'j', Index: 20 + n }] })}\n`);
      // then silence: no heartbeat, no end
    });
    const ac = new AbortController();
    const seen: number[] = [];
    for await (const b of sut.events.subscribe({ topics: { Job: ['*'] }, idleTimeoutMs: 150, signal: ac.signal })) {
      seen.push(b.index);
      if (seen.length === 2) ac.abort();
    }
    assert.deepEqual(seen, [21, 22]);
    assert.equal(server.requests[1]?.query.get('index'), '22');
  });

  test('event stream: a 403 is thrown, not retried', async () => {
    const { server, sut } = await withServer((_req, res) => {
      res.writeHead(403);
      res.end('Permission denied');
    });
    const it = sut.events.subscribe({ topics: { Job: ['*'] } });
    await assert.rejects(it.next(), (e: unknown) => e instanceof NomadUnexpectedResponseError && e.status === 403);
    assert.equal(server.requests.length, 1);
  });
});
