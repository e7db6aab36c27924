import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startNomadDouble, type NomadDouble, type NomadDoubleOptions } from './index.ts';
import { aBatchJob, aHostVolumeCreate, aServiceJob, type Fixture } from '../../nomad-validate/fixtures.ts';
import { api, assertContract, until } from './helpers.ts';

async function withDouble(fn: (d: NomadDouble) => Promise<void>, opts: NomadDoubleOptions = {}): Promise<void> {
  const d = await startNomadDouble(opts);
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

const register = (d: NomadDouble, job: Fixture, extra: Fixture = {}) => api(d.url, 'PUT', '/v1/jobs', { Job: job, ...extra });

/**
 * streamFor reads a streaming response until `done(text)` holds (checked on each chunk), it ends, or ms elapse,
 * and returns the raw text.
 */
function streamFor(url: string, ms: number, done: (text: string) => boolean = () => false): Promise<{ status: number; text: string; ended: boolean }> {
  return new Promise((resolve, reject) => {
    let text = '';
    let ended = false;
    const req = request(url, (res) => {
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        text += c;
        if (done(text)) { clearTimeout(t); req.destroy(); resolve({ status: res.statusCode ?? 0, text, ended }); }
      });
      res.on('end', () => { ended = true; clearTimeout(t); resolve({ status: res.statusCode ?? 0, text, ended }); });
      res.on('error', () => undefined);
      const t = setTimeout(() => { req.destroy(); resolve({ status: res.statusCode ?? 0, text, ended }); }, ms);
    });
    req.on('error', (e) => { if (!ended) reject(e); });
    req.end();
  });
}

/** splitFrames splits concatenated JSON objects (Nomad's framed log stream, no newlines guaranteed). */
function splitFrames(text: string): Fixture[] {
  const out: Fixture[] = [];
  let depth = 0, start = 0, inStr = false, esc = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === '\\') esc = true;
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    else if (c === '{') { if (depth === 0) start = i; depth++; }
    else if (c === '}') { depth--; if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1))); }
  }
  return out;
}

test('a body the contract rejects gets a 400 naming the key, and nothing is registered', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob();
    job.TaskGroups[0].Services[0].Port = 'http';
    const r = await register(d, job);
    assert.equal(r.status, 400);
    assert.match(r.text, /\/Job\/TaskGroups\/0\/Services\/0\/Port: unknown key "Port"/);
    const top = await api(d.url, 'PUT', '/v1/jobs', { Job: aServiceJob(), Jbo: 1 });
    assert.equal(top.status, 400);
    assert.match(top.text, /\/Jbo: unknown key "Jbo"/);
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app')).status, 404);
    const vol = aHostVolumeCreate();
    vol.Volume.Size = 1;
    const v = await api(d.url, 'PUT', '/v1/volume/host/create', vol);
    assert.equal(v.status, 400);
    assert.match(v.text, /\/Volume\/Size: unknown key "Size"/);
    const bad = await api(d.url, 'PUT', '/v1/var/nomad/jobs/x', { Path: 'nomad/jobs/x', Items: { a: 'b' }, Itmes: {} });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /unknown key "Itmes"/);
    const json = await fetch(`${d.url}/v1/jobs`, { method: 'PUT', body: '{not json' });
    assert.equal(json.status, 400);
  });
});

test('registrations run Nomad\'s validation (400, multierror text) and job-update checks (500)', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob();
    job.TaskGroups[0].Services[0].PortLabel = 'www';
    const r = await register(d, job);
    assert.equal(r.status, 400);
    assert.match(r.text, /^1 error occurred:\n\t\* Task group web validation failed: Task group service validation failed: port label "www" referenced by services web-app does not exist\n\n$/);
    const batch = aBatchJob('b');
    batch.TaskGroups[0].Update = { MaxParallel: 1 };
    assert.match((await register(d, batch)).text, /Job type "batch" does not allow update block/);
    assert.equal((await register(d, aBatchJob('nightly'))).status, 200);
    const nonPeriodic = aBatchJob('nightly');
    delete nonPeriodic.Periodic;
    const u = await register(d, nonPeriodic);
    assert.equal(u.status, 500);
    assert.equal(u.text, 'cannot update periodic job to being non-periodic');
    const svc = aServiceJob('nightly');
    assert.match((await register(d, svc)).text, /cannot update job from type "batch" to "service"/);
    const other = aServiceJob('elsewhere');
    other.Namespace = 't-missing';
    const ns = await register(d, other);
    assert.equal(ns.status, 500);
    assert.match(ns.text, /nonexistent namespace "t-missing"/);
  });
});

test('EnforceIndex / JobModifyIndex give check-and-set registration with Nomad\'s messages', async () => {
  await withDouble(async (d) => {
    const first = await register(d, aServiceJob(), { EnforceIndex: true, JobModifyIndex: 0 });
    assert.equal(first.status, 200, first.text);
    const dup = await register(d, aServiceJob(), { EnforceIndex: true, JobModifyIndex: 0 });
    assert.equal(dup.status, 500);
    assert.equal(dup.text, 'Enforcing job modify index 0: job already exists');
    const stale = await register(d, aServiceJob(), { EnforceIndex: true, JobModifyIndex: first.json.JobModifyIndex + 100 });
    assert.equal(stale.text, `Enforcing job modify index ${first.json.JobModifyIndex + 100}: job exists with conflicting job modify index: ${first.json.JobModifyIndex}`);
    const next = aServiceJob();
    next.TaskGroups[0].Tasks[0].Env.V = '2';
    const ok = await register(d, next, { EnforceIndex: true, JobModifyIndex: first.json.JobModifyIndex });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.json.JobModifyIndex > first.json.JobModifyIndex);
    const unchanged = await register(d, next);
    assert.equal(unchanged.json.JobModifyIndex, ok.json.JobModifyIndex, 'an unchanged spec makes no new version');
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app')).json.Version, 1);
    assert.equal((await register(d, aServiceJob('nope'), { EnforceIndex: true, JobModifyIndex: 5 })).text, 'Enforcing job modify index 5: job does not exist');
  });
});

test('register returns Nomad\'s warnings; /v1/validate/job and plan (diff, annotations, failures)', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob();
    job.TaskGroups[0].Tasks[0].Resources.MemoryMaxMB = 512;
    const r = await register(d, job);
    assert.match(r.json.Warnings, /Memory oversubscription is not enabled; Task "web.app" memory_max value will be ignored/);
    const v = await api(d.url, 'PUT', '/v1/validate/job', { Job: { ...aServiceJob(), Priority: 500 } });
    assert.equal(v.status, 200);
    assertContract('JobValidateResponse', v.json);
    assert.deepEqual(v.json.ValidationErrors, ['Job priority must be between [1, 100]']);
    assert.equal((await api(d.url, 'PUT', '/v1/validate/job', { Job: aServiceJob() })).json.ValidationErrors, null);
    await until('deployed', async () => (await api(d.url, 'GET', '/v1/job/web-app')).json.Stable === true);
    const next = aServiceJob();
    next.TaskGroups[0].Tasks[0].Resources.MemoryMaxMB = 512;
    next.TaskGroups[0].Tasks[0].Config.image = 'nginx:1.28';
    const p = await api(d.url, 'PUT', '/v1/job/web-app/plan', { Job: next, Diff: true });
    assert.equal(p.status, 200, p.text);
    assertContract('JobPlanResponse', p.json);
    assert.equal(p.json.Diff.Type, 'Edited');
    const task = p.json.Diff.TaskGroups[0].Tasks[0];
    assert.equal(task.Type, 'Edited');
    const config = (task.Objects as Fixture[]).find((o) => o.Name === 'Config');
    assert.deepEqual(config.Fields.find((f: Fixture) => f.Name === 'image'), { Type: 'Edited', Name: 'image', Old: 'nginx:1.27', New: 'nginx:1.28', Annotations: null });
    assert.equal(p.json.Annotations.DesiredTGUpdates.web.Canary, 1);
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app')).json.Version, 0, 'plan changes nothing');
    const big = aServiceJob('big');
    big.TaskGroups[0].Tasks[0].Resources.MemoryMB = 100_000;
    const pb = await api(d.url, 'PUT', '/v1/job/big/plan', { Job: big, Diff: true });
    assert.equal(pb.json.Diff.Type, 'Added');
    assert.deepEqual(pb.json.FailedTGAllocs.web.DimensionExhausted, { memory: 3 });
    const cron = await api(d.url, 'PUT', '/v1/job/nightly/plan', { Job: aBatchJob('nightly') });
    assert.match(cron.json.NextPeriodicLaunch, /^\d{4}-\d\d-\d\dT\d\d:[0-5]\d:00\.000Z$/);
  });
});

test('blocking queries hold until the index passes or the wait elapses', async () => {
  await withDouble(async (d) => {
    const missing = await api(d.url, 'GET', '/v1/job/web-app');
    assert.equal(missing.status, 404);
    assert.ok(Number(missing.headers.get('x-nomad-index')) > 0, 'a 404 carries the query meta');
    const appears = api(d.url, 'GET', `/v1/job/web-app?index=${missing.headers.get('x-nomad-index')}&wait=10s`);
    await register(d, aServiceJob());
    assert.equal((await appears).status, 200, 'a blocking read of a missing job returns once it is registered');
    const allocs = await api(d.url, 'GET', '/v1/job/web-app/allocations');
    const aIndex = Number(allocs.headers.get('x-nomad-index'));
    const t1 = Date.now();
    const woke = await api(d.url, 'GET', `/v1/job/web-app/allocations?index=${aIndex}&wait=10s`);
    assert.ok(Date.now() - t1 < 2000, 'woken by the next allocation update');
    assert.ok(Number(woke.headers.get('x-nomad-index')) > aIndex);
    const job = await api(d.url, 'GET', '/v1/job/web-app');
    const index = Number(job.headers.get('x-nomad-index'));
    assert.equal(index, job.json.ModifyIndex);
    assert.equal(job.headers.get('x-nomad-knownleader'), 'true');
    assert.equal(job.headers.get('x-nomad-lastcontact'), '0');
    const t0 = Date.now();
    const idle = await api(d.url, 'GET', `/v1/namespaces?index=${(await api(d.url, 'GET', '/v1/namespaces')).headers.get('x-nomad-index')}&wait=300ms`);
    assert.ok(Date.now() - t0 >= 290, `returned after ${Date.now() - t0} ms`);
    assert.equal(idle.status, 200);
    const dep = await until('deployment', async () => (await api(d.url, 'GET', '/v1/job/web-app/deployment')).json);
    let last = Number((await api(d.url, 'GET', `/v1/deployment/${dep.ID}`)).headers.get('x-nomad-index'));
    for (let i = 0; i < 20; i++) {
      const r = await api(d.url, 'GET', `/v1/deployment/${dep.ID}?index=${last}&wait=2s`);
      if (r.json.Status !== 'running') break;
      const next = Number(r.headers.get('x-nomad-index'));
      assert.ok(next > last || Date.now() > 0);
      last = next;
    }
    assert.equal((await api(d.url, 'GET', `/v1/deployment/${dep.ID}`)).json.Status, 'successful');
    assert.equal((await api(d.url, 'GET', '/v1/jobs?wait=bogus&index=1')).status, 400);
  });
});

test('host volumes: create, list, read, delete — and every delete is recorded', async () => {
  await withDouble(async (d) => {
    assert.deepEqual(d.control.volumeDeletes(), []);
    const bad = aHostVolumeCreate();
    bad.Volume.RequestedCapabilities = [{ AccessMode: 'multi-node-multi-writer', AttachmentMode: 'file-system' }];
    const b = await api(d.url, 'PUT', '/v1/volume/host/create', bad);
    assert.equal(b.status, 400);
    assert.match(b.text, /invalid access mode: "multi-node-multi-writer"/);
    const c = await api(d.url, 'PUT', '/v1/volume/host/create', aHostVolumeCreate('dv-a-0000'));
    assert.equal(c.status, 200, c.text);
    const again = await api(d.url, 'PUT', '/v1/volume/host/create', aHostVolumeCreate('dv-a-0000'));
    assert.equal(again.json.Volume.ID, c.json.Volume.ID, 'creating an existing name updates that volume');
    const moved = aHostVolumeCreate('dv-a-0000');
    moved.Volume.NodeID = d.control.state.nodes.find((n) => n.ID !== c.json.Volume.NodeID)?.ID;
    assert.match((await api(d.url, 'PUT', '/v1/volume/host/create', moved)).text, /node ID cannot be updated/);
    const list = await api(d.url, 'GET', '/v1/volumes?type=host');
    assert.equal(list.json.length, 1);
    assertContract('HostVolumeStub', list.json[0]);
    assert.equal((await api(d.url, 'GET', '/v1/volumes?type=nfs')).status, 400);
    const del = await api(d.url, 'DELETE', `/v1/volume/host/${c.json.Volume.ID}`);
    assert.equal(del.status, 200);
    assert.equal((await api(d.url, 'GET', `/v1/volume/host/${c.json.Volume.ID}`)).status, 404);
    const deletes = d.control.volumeDeletes();
    assert.equal(deletes.length, 1);
    assert.equal(deletes[0]?.name, 'dv-a-0000');
    assert.equal((await api(d.url, 'GET', '/__double/volume-deletes')).json.length, 1);
  });
});

test('variables: read, write with cas (409 with the current variable), 64 KiB limit, reserved paths, list, delete', async () => {
  await withDouble(async (d) => {
    const path = '/v1/var/nomad/jobs/web-app';
    assert.equal((await api(d.url, 'GET', path)).status, 404);
    const w = await api(d.url, 'PUT', `${path}?cas=0`, { Namespace: 'default', Path: 'nomad/jobs/web-app', Items: { d1_A: '1' } });
    assert.equal(w.status, 200, w.text);
    assertContract('Variable', w.json);
    const conflict = await api(d.url, 'PUT', `${path}?cas=0`, { Path: 'nomad/jobs/web-app', Items: { d1_A: '2' } });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.Items.d1_A, '1');
    const ok = await api(d.url, 'PUT', `${path}?cas=${w.json.ModifyIndex}`, { Path: 'nomad/jobs/web-app', Items: { d1_A: '2' } });
    assert.equal(ok.status, 200);
    const big = await api(d.url, 'PUT', path, { Path: 'nomad/jobs/web-app', Items: { a: 'x'.repeat(64 * 1024) } });
    assert.equal(big.status, 400);
    assert.match(big.text, /variables are limited to 64KiB in total size/);
    assert.equal((await api(d.url, 'GET', path)).json.Items.d1_A, '2');
    assert.equal((await api(d.url, 'PUT', '/v1/var/nomad/other', { Path: 'nomad/other', Items: { a: 'b' } })).status, 400);
    const list = await api(d.url, 'GET', '/v1/vars?prefix=nomad/jobs');
    assert.equal(list.json.length, 1);
    assertContract('VariableMetadata', list.json[0]);
    assert.equal(list.json[0].Items, undefined);
    assert.equal((await api(d.url, 'DELETE', `${path}?cas=1`)).status, 409);
    assert.equal((await api(d.url, 'DELETE', `${path}?cas=${ok.json.ModifyIndex}`)).status, 200);
    assert.equal((await api(d.url, 'GET', path)).status, 404);
  });
});

test('namespaces, ACL policies, nodes, status and agent self', async () => {
  await withDouble(async (d) => {
    assert.equal((await api(d.url, 'PUT', '/v1/namespace', { Name: 't-acme-1a2b3c4d', Description: 'team acme' })).status, 200);
    const ns = await api(d.url, 'GET', '/v1/namespace/t-acme-1a2b3c4d');
    assertContract('Namespace', ns.json);
    assert.equal((await api(d.url, 'GET', '/v1/namespaces')).json.length, 2);
    const job = aServiceJob();
    job.Namespace = 't-acme-1a2b3c4d';
    assert.equal((await register(d, job)).status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app')).status, 404, 'jobs are namespaced');
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app?namespace=t-acme-1a2b3c4d')).status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/jobs?namespace=*')).json.length, 1);
    assert.equal((await api(d.url, 'DELETE', '/v1/namespace/t-acme-1a2b3c4d')).status, 500);
    const pol = { Name: 'drover-t-acme', Description: 'team', Rules: 'namespace "t-acme-1a2b3c4d" { policy = "write" }' };
    assert.equal((await api(d.url, 'PUT', '/v1/acl/policy/drover-t-acme', pol)).status, 200);
    assertContract('ACLPolicy', (await api(d.url, 'GET', '/v1/acl/policy/drover-t-acme')).json);
    assert.equal((await api(d.url, 'PUT', '/v1/acl/policy/other', pol)).status, 400);
    assertContract('ACLPolicyListStub', (await api(d.url, 'GET', '/v1/acl/policies')).json[0]);
    const nodes = (await api(d.url, 'GET', '/v1/nodes')).json as Fixture[];
    assert.equal(nodes.length, 3);
    assertContract('NodeListStub', nodes[0]);
    assertContract('Node', (await api(d.url, 'GET', `/v1/node/${nodes[0].ID}`)).json);
    assert.equal((await api(d.url, 'GET', '/v1/status/leader')).json, '127.0.0.1:4647');
    assertContract('AgentSelf', (await api(d.url, 'GET', '/v1/agent/self')).json);
  });
});

test('list filters use go-bexpr syntax, with prefix and pagination', async () => {
  await withDouble(async (d) => {
    for (const id of ['a-1', 'a-2', 'b-1']) {
      const j = aServiceJob(id);
      j.Meta = { 'drover.team': id.startsWith('a') ? 'ta' : 'tb' };
      await register(d, j);
    }
    const byMeta = await api(d.url, 'GET', `/v1/jobs?filter=${encodeURIComponent('Meta["drover.team"] == "ta"')}`);
    assert.deepEqual((byMeta.json as Fixture[]).map((j) => j.ID), ['a-1', 'a-2']);
    const byOr = await api(d.url, 'GET', `/v1/jobs?filter=${encodeURIComponent('ID == "b-1" or (Type == "service" and ID matches "^a-2$")')}`);
    assert.deepEqual((byOr.json as Fixture[]).map((j) => j.ID), ['a-2', 'b-1']);
    assert.equal((await api(d.url, 'GET', '/v1/jobs?prefix=a-')).json.length, 2);
    const page = await api(d.url, 'GET', '/v1/jobs?per_page=2');
    assert.equal(page.json.length, 2);
    assert.equal(page.headers.get('x-nomad-nexttoken'), 'b-1');
    assert.equal((await api(d.url, 'GET', '/v1/jobs?per_page=2&next_token=b-1')).json.length, 1);
    assert.equal((await api(d.url, 'GET', `/v1/jobs?filter=${encodeURIComponent('ID ===')}`)).status, 400);
  });
});

test('logs: framed JSON with base64 data per task and stream, plain mode, origin end, follow with {} heartbeats', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob());
    const [a] = await until('running alloc', async () => {
      const l = (await api(d.url, 'GET', '/v1/job/web-app/allocations')).json as Fixture[];
      return l.length && l.every((x) => x.ClientStatus === 'running') ? l : undefined;
    });
    const framed = await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stdout&origin=start&offset=0`);
    assert.equal(framed.status, 200);
    const frames = splitFrames(framed.text);
    assert.ok(frames.length >= 1);
    for (const f of frames) assertContract('StreamFrame', f);
    const text = frames.map((f) => Buffer.from(f.Data, 'base64').toString('utf8')).join('');
    assert.match(text, /listening on 0\.0\.0\.0:8080/);
    assert.equal(frames[0].File, 'alloc/logs/app.stdout.0');
    const plain = await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stdout&plain=true`);
    assert.equal(plain.text, text);
    const tail = await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stdout&plain=true&origin=end&offset=5`);
    assert.equal(tail.text, text.slice(-5));
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?type=stdout`)).status, 400);
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stdlog`)).status, 400);
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=nope&type=stdout`)).status, 400);
    const boom = Buffer.from('boom\n').toString('base64');
    const follow = streamFor(`${d.url}/v1/client/fs/logs/${a.ID}?task=app&type=stderr&follow=true&origin=end&offset=0`, 5000, (t) => t.includes(boom) && t.includes('{}'));
    setTimeout(() => d.control.appendLog(a.ID, 'app', 'stderr', 'boom\n'), 100);
    const got = await follow;
    const followed = splitFrames(got.text);
    assert.ok(followed.some((f) => f.Data && Buffer.from(f.Data, 'base64').toString() === 'boom\n'), got.text);
    assert.ok(followed.some((f) => Object.keys(f).length === 0), 'heartbeat {} frames');
  }, { logHeartbeatMs: 50 });
});

test('logs rotate like Nomad: files <task>.<type>.<n> at the size limit, the oldest beyond MaxFiles deleted, offsets across kept files, frames per file', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob());
    const [a] = await until('running alloc', async () => {
      const l = (await api(d.url, 'GET', '/v1/job/web-app/allocations')).json as Fixture[];
      return l.length && l.every((x) => x.ClientStatus === 'running') ? l : undefined;
    });
    d.control.setLogLimits({ maxFileBytes: 10, maxFiles: 3 });
    d.control.appendLog(a.ID, 'app', 'stderr', '0123456789abcdefghijKLMNO'); // 10 + 10 + 5 bytes: files 0, 1, 2
    const ls = await api(d.url, 'GET', `/v1/client/fs/ls/${a.ID}?path=alloc/logs`);
    const sizes = Object.fromEntries((ls.json as Fixture[]).filter((f) => String(f.Name).startsWith('app.stderr.')).map((f) => [f.Name, f.Size]));
    assert.deepEqual(sizes, { 'app.stderr.0': 10, 'app.stderr.1': 10, 'app.stderr.2': 5 });
    // origin=start&offset counts across the kept files (findClosest): 15 = file 1 at 5.
    const from15 = splitFrames((await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stderr&origin=start&offset=15`)).text);
    for (const f of from15) assertContract('StreamFrame', f);
    assert.deepEqual(from15.map((f) => [f.File, f.Offset, Buffer.from(f.Data, 'base64').toString()]), [
      ['alloc/logs/app.stderr.1', 10, 'fghij'], ['alloc/logs/app.stderr.2', 5, 'KLMNO'],
    ]);
    // origin=end goes backwards across files: the last 7 bytes start in file 1.
    const tail = await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stderr&plain=true&origin=end&offset=7`);
    assert.equal(tail.text, 'ijKLMNO');
    // A fourth file deletes file 0 (MaxFiles 3): offset 0 is now the start of file 1.
    d.control.rotateLog(a.ID, 'app', 'stderr');
    d.control.appendLog(a.ID, 'app', 'stderr', 'pq');
    const all = splitFrames((await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stderr&origin=start&offset=0`)).text);
    assert.deepEqual(all.map((f) => f.File), ['alloc/logs/app.stderr.1', 'alloc/logs/app.stderr.2', 'alloc/logs/app.stderr.3']);
    assert.equal(all.map((f) => Buffer.from(f.Data, 'base64').toString()).join(''), 'abcdefghijKLMNOpq');
    // A follower moves on to the next file when it appears. origin=end&offset=0 is findClosest's base case: the START
    // of the newest file (not its end), as in Nomad.
    const follow = streamFor(`${d.url}/v1/client/fs/logs/${a.ID}?task=app&type=stderr&follow=true&origin=end&offset=0`, 5000, (t) => t.includes('app.stderr.4'));
    setTimeout(() => d.control.appendLog(a.ID, 'app', 'stderr', 'rstuvwxyz!'), 100); // 8 bytes fill file 3, 2 go to file 4
    const got = splitFrames((await follow).text).filter((f) => f.Data);
    assert.deepEqual(got.map((f) => [f.File, f.Offset, Buffer.from(f.Data, 'base64').toString()]), [
      ['alloc/logs/app.stderr.3', 2, 'pq'], ['alloc/logs/app.stderr.3', 10, 'rstuvwxy'], ['alloc/logs/app.stderr.4', 2, 'z!'],
    ]);
  }, { logHeartbeatMs: 50 });
});

test('event stream: NDJSON by topic and key, replay from an index, {} heartbeats', async () => {
  await withDouble(async (d) => {
    const s = streamFor(`${d.url}/v1/event/stream?topic=Deployment:*&topic=Job:web-app`, 5000, (t) => (t.match(/"Status":"successful"/g) ?? []).length >= 2 && t.includes('{}\n'));
    await register(d, aServiceJob());
    await register(d, aServiceJob('other'));
    const got = await s;
    const lines = got.text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
    assert.ok(lines.some((l) => Object.keys(l).length === 0), 'heartbeats');
    const batches = lines.filter((l) => l.Events);
    for (const b of batches) assertContract('Events', b);
    const events = batches.flatMap((b) => b.Events as Fixture[]);
    assert.ok(events.some((e) => e.Topic === 'Deployment' && e.Payload.Deployment.Status === 'successful'));
    assert.ok(events.filter((e) => e.Topic === 'Job').every((e) => e.Key === 'web-app'));
    assert.ok(!events.some((e) => e.Topic === 'Allocation'));
    const replay = await streamFor(`${d.url}/v1/event/stream?topic=Allocation:*&index=1`, 2000, (t) => t.includes('"Events"'));
    const replayed = replay.text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((l) => l.Events);
    assert.ok(replayed.length > 0 && replayed.every((b) => b.Index > 1));
    assert.equal((await api(d.url, 'GET', '/v1/event/stream?topic=Bogus:*')).status, 400);
  }, { eventHeartbeatMs: 100 });
});

test('the token is required when configured: 403 "Permission denied"', async () => {
  await withDouble(async (d) => {
    const no = await api(d.url, 'GET', '/v1/jobs');
    assert.equal(no.status, 403);
    assert.equal(no.text, 'Permission denied');
    assert.equal((await api(d.url, 'GET', '/v1/jobs', undefined, { 'X-Nomad-Token': 'wrong' })).status, 403);
    assert.equal((await api(d.url, 'GET', '/v1/jobs', undefined, { 'X-Nomad-Token': 's3cr3t-token' })).status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/jobs', undefined, { Authorization: 'Bearer s3cr3t-token' })).status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/status/leader')).status, 200);
  }, { token: 's3cr3t-token' });
});

test('faults: 503s at a rate, slow answers, leader loss, lost responses of applied writes, index reset', async () => {
  await withDouble(async (d) => {
    d.control.setFaults({ errorRate: 0.5 });
    let errors = 0;
    for (let i = 0; i < 200; i++) if ((await api(d.url, 'GET', '/v1/jobs')).status === 503) errors++;
    assert.ok(errors > 60 && errors < 140, `${errors} of 200 answered 503`);
    d.control.setFaults({ errorRate: 1 });
    assert.equal((await register(d, aServiceJob())).status, 503);
    d.control.setFaults({});
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app')).status, 404, 'a 503 applied nothing');
    d.control.setFaults({ slowMs: 200 });
    const t0 = Date.now();
    await api(d.url, 'GET', '/v1/jobs');
    assert.ok(Date.now() - t0 >= 190);
    d.control.setFaults({ leaderLoss: true });
    const nl = await api(d.url, 'GET', '/v1/jobs');
    assert.equal(nl.status, 500);
    assert.equal(nl.text, 'No cluster leader');
    assert.equal(nl.headers.get('x-nomad-knownleader'), 'false');
    d.control.setFaults({ dropRate: 1 });
    await assert.rejects(register(d, aServiceJob()));
    d.control.setFaults({});
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app')).status, 200, 'the dropped write was applied');
    await until('deployed', async () => (await api(d.url, 'GET', '/v1/job/web-app')).json.Stable === true);
    await new Promise((r) => setTimeout(r, 200));
    const before = Number((await api(d.url, 'GET', '/v1/job/web-app')).headers.get('x-nomad-index'));
    const ctl = await api(d.url, 'POST', '/__double/faults', { indexReset: true });
    assert.equal(ctl.status, 200);
    const afterReset = await api(d.url, 'GET', `/v1/job/web-app?index=${before}&wait=5s`);
    assert.ok(Number(afterReset.headers.get('x-nomad-index')) < before, 'the index went backwards and the blocking query answered at once');
    assert.equal((await api(d.url, 'POST', '/__double/scenario', { jobId: 'x', scenario: 'oom' })).status, 200);
    assert.equal((await api(d.url, 'POST', '/__double/scenario', { jobId: 'x', scenario: 'meteor' })).status, 400);
  }, { seed: 42 });
});
