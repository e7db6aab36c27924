import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNomadDouble, type NomadDouble } from './index.ts';
import { aBatchJob, aHostVolumeCreate, aHostVolumeJob, aServiceJob, type Fixture } from '../../nomad-validate/fixtures.ts';
import { api, assertContract, until } from './helpers.ts';

async function withDouble(fn: (d: NomadDouble) => Promise<void>, opts = {}): Promise<void> {
  const d = await startNomadDouble(opts);
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

const register = (d: NomadDouble, job: Fixture, extra: Fixture = {}) => api(d.url, 'PUT', '/v1/jobs', { Job: job, ...extra });
const latestDeployment = async (d: NomadDouble, id: string, ns = 'default') => (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(id)}/deployment?namespace=${ns}`)).json;

async function terminalDeployment(d: NomadDouble, id: string, version: number, timeoutMs = 5000): Promise<Fixture> {
  return until(`deployment of ${id} v${version}`, async () => {
    const deps = (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(id)}/deployments`)).json as Fixture[];
    const dep = deps.find((x) => x.JobVersion === version);
    return dep && dep.Status !== 'running' ? dep : undefined;
  }, timeoutMs);
}

test('a service job goes register → eval complete → allocs running → deployment successful, in Nomad\'s shapes', async () => {
  await withDouble(async (d) => {
    const r = await register(d, aServiceJob());
    assert.equal(r.status, 200, r.text);
    assertContract('JobRegisterResponse', r.json);
    assert.ok(Number(r.headers.get('x-nomad-index')) > 0);
    const ev = (await api(d.url, 'GET', `/v1/evaluation/${r.json.EvalID}`)).json;
    assertContract('Evaluation', ev);
    const dep = await terminalDeployment(d, 'web-app', 0);
    assert.equal(dep.Status, 'successful');
    assert.equal(dep.StatusDescription, 'Deployment completed successfully');
    assertContract('Deployment', dep);
    const evDone = (await api(d.url, 'GET', `/v1/evaluation/${r.json.EvalID}`)).json;
    assert.equal(evDone.Status, 'complete');
    assert.equal(evDone.DeploymentID, dep.ID);
    const allocs = (await api(d.url, 'GET', '/v1/job/web-app/allocations')).json as Fixture[];
    assert.equal(allocs.length, 2);
    for (const a of allocs) {
      assertContract('AllocationListStub', a);
      assert.equal(a.ClientStatus, 'running');
      assert.equal(a.DeploymentStatus.Healthy, true);
      const full = (await api(d.url, 'GET', `/v1/allocation/${a.ID}`)).json;
      assertContract('Allocation', full);
      assert.deepEqual(full.TaskStates.app.Events.map((e: Fixture) => e.Type), ['Received', 'Task Setup', 'Driver', 'Started']);
    }
    const job = (await api(d.url, 'GET', '/v1/job/web-app')).json;
    assertContract('Job', job);
    assert.equal(job.Status, 'running');
    assert.equal(job.Stable, true);
    assertContract('JobSummary', (await api(d.url, 'GET', '/v1/job/web-app/summary')).json);
    const list = (await api(d.url, 'GET', '/v1/jobs')).json as Fixture[];
    assert.equal(list.length, 1);
    assertContract('JobListStub', list[0]);
    assert.equal(list[0].JobSummary.Summary.web.Running, 2);
    const depAllocs = (await api(d.url, 'GET', `/v1/deployment/allocations/${dep.ID}`)).json as Fixture[];
    assert.equal(depAllocs.length, 2);
    const evs = (await api(d.url, 'GET', '/v1/job/web-app/evaluations')).json as Fixture[];
    assert.equal(evs.length, 1);
    assert.equal((await api(d.url, 'GET', `/v1/evaluation/${r.json.EvalID}/allocations`)).json.length, 2);
  });
});

test('scenario pull-fail: Driver Failure "Failed to pull", the alloc fails and so does the deployment', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob('puller');
    job.TaskGroups[0].Tasks[0].Config.image = 'ghcr.io/acme/app:scenario-pull-fail';
    assert.equal((await register(d, job)).status, 200);
    const dep = await terminalDeployment(d, 'puller', 0);
    assert.equal(dep.Status, 'failed');
    assert.equal(dep.StatusDescription, 'Failed due to unhealthy allocations');
    const [a] = (await api(d.url, 'GET', '/v1/job/puller/allocations')).json as Fixture[];
    const full = (await api(d.url, 'GET', `/v1/allocation/${a.ID}`)).json;
    assertContract('Allocation', full);
    assert.equal(full.ClientStatus, 'failed');
    const events = full.TaskStates.app.Events as Fixture[];
    const failure = events.find((e) => e.Type === 'Driver Failure');
    assert.ok(failure, JSON.stringify(events.map((e) => e.Type)));
    assert.match(failure.DriverError, /^Failed to pull `ghcr\.io\/acme\/app:scenario-pull-fail`: /);
    assert.equal(failure.FailsTask, true);
    assert.equal(full.TaskStates.app.Failed, true);
    assert.equal(full.TaskStates.app.State, 'dead');
  });
});

test('scenario oom: exit 137 "OOM Killed" with the restart policy exhausted and "Killed" on stderr', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob('hog');
    job.TaskGroups[0].Tasks[0].Config.image = 'acme/hog:scenario-oom';
    await register(d, job);
    const dep = await terminalDeployment(d, 'hog', 0);
    assert.equal(dep.Status, 'failed');
    const [a] = (await api(d.url, 'GET', '/v1/job/hog/allocations')).json as Fixture[];
    const full = (await api(d.url, 'GET', `/v1/allocation/${a.ID}`)).json;
    const events = full.TaskStates.app.Events as Fixture[];
    const term = events.filter((e) => e.Type === 'Terminated');
    assert.equal(term.length, 3, 'one exit per attempt (2 restarts)');
    assert.ok(term.every((e) => e.ExitCode === 137 && e.Message === 'OOM Killed' && e.Details.oom_killed === 'true'));
    assert.match(events[events.length - 1].DisplayMessage, /^Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"$/);
    assert.equal(full.TaskStates.app.Restarts, 2);
    const logs = await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stderr&plain=true`);
    assert.match(logs.text, /Killed/);
  });
});

test('scenario unhealthy: checks fail, "Alloc Unhealthy" with the check output, the deployment fails on its deadline', async () => {
  await withDouble(async (d) => {
    assert.equal((await api(d.url, 'POST', '/__double/scenario', { jobId: 'sick', scenario: 'unhealthy' })).status, 200);
    const job = aServiceJob('sick');
    job.TaskGroups[0].Update.ProgressDeadline = 5 * 60 * 1e9;
    job.TaskGroups[0].Update.HealthyDeadline = 4 * 60 * 1e9;
    await register(d, job);
    const dep = await terminalDeployment(d, 'sick', 0);
    assert.equal(dep.Status, 'failed');
    assert.equal(dep.StatusDescription, 'Failed due to progress deadline');
    const [a] = (await api(d.url, 'GET', '/v1/job/sick/allocations')).json as Fixture[];
    assert.equal(a.DeploymentStatus.Healthy, false);
    const full = (await api(d.url, 'GET', `/v1/allocation/${a.ID}`)).json;
    const ev = (full.TaskStates.app.Events as Fixture[]).find((e) => e.Type === 'Alloc Unhealthy');
    assert.ok(ev);
    assert.equal(ev.DisplayMessage, 'Task not running for min_healthy_time of 10s by healthy_deadline of 4m0s');
    assert.match(ev.Details.output, /503 Service Unavailable/);
    const stderr = await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stderr&plain=true`);
    assert.match(stderr.text, /health check "alive" failing: HTTP GET http:\/\/10\.0\.0\.\d+:\d+\/health: 503/);
  });
});

test('scenario no-capacity: the eval fails placement on memory and leaves a blocked eval', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob('big');
    job.TaskGroups[0].Tasks[0].Config.image = 'acme/big:scenario-no-capacity';
    const r = await register(d, job);
    const ev = await until('eval complete', async () => {
      const e = (await api(d.url, 'GET', `/v1/evaluation/${r.json.EvalID}`)).json;
      return e.Status === 'complete' ? e : undefined;
    });
    assertContract('Evaluation', ev);
    const metric = ev.FailedTGAllocs.web;
    assert.deepEqual(metric.DimensionExhausted, { memory: 3 });
    assert.equal(metric.NodesExhausted, 3);
    assert.equal(metric.NodesEvaluated, 3);
    assert.equal(metric.CoalescedFailures, 1);
    assert.deepEqual(ev.QueuedAllocations, { web: 2 });
    const blocked = (await api(d.url, 'GET', `/v1/evaluation/${ev.BlockedEval}`)).json;
    assert.equal(blocked.Status, 'blocked');
    assert.equal(blocked.TriggeredBy, 'queued-allocs');
    assert.equal((await api(d.url, 'GET', '/v1/job/big/allocations')).json.length, 0);
    const dep = await terminalDeployment(d, 'big', 0);
    assert.equal(dep.StatusDescription, 'Failed due to progress deadline');
    assert.equal((await api(d.url, 'GET', '/v1/job/big/summary')).json.Summary.web.Queued, 2);
  });
});

test('real capacity: a group asking more memory than any node has fails placement the same way', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob('huge');
    job.TaskGroups[0].Tasks[0].Resources.MemoryMB = 4096;
    const r = await register(d, job);
    const ev = await until('eval complete', async () => {
      const e = (await api(d.url, 'GET', `/v1/evaluation/${r.json.EvalID}`)).json;
      return e.Status === 'complete' ? e : undefined;
    });
    assert.deepEqual(ev.FailedTGAllocs.web.DimensionExhausted, { memory: 2 });
  }, { nodes: 2, nodeMemoryMB: 2048 });
});

test('no node with the volume: a host volume request whose volume does not exist is filtered on every node', async () => {
  await withDouble(async (d) => {
    const r = await register(d, aHostVolumeJob('db'));
    const ev = await until('eval complete', async () => {
      const e = (await api(d.url, 'GET', `/v1/evaluation/${r.json.EvalID}`)).json;
      return e.Status === 'complete' ? e : undefined;
    });
    assert.deepEqual(ev.FailedTGAllocs.web.ConstraintFiltered, { 'missing compatible host volumes': 3 });
    assert.equal(ev.FailedTGAllocs.web.NodesFiltered, 3);
  });
});

test('a job with its host volume created is placed on the volume\'s node', async () => {
  await withDouble(async (d) => {
    const v = await api(d.url, 'PUT', '/v1/volume/host/create', aHostVolumeCreate('dv-db-data-0a1b2c3d'));
    assert.equal(v.status, 200, v.text);
    assertContract('HostVolumeCreateResponse', v.json);
    assert.equal(v.json.Volume.State, 'ready');
    assert.equal(v.json.Volume.CapacityBytes, 0, 'the built-in mkdir plugin reports no size (it enforces none)');
    await register(d, aHostVolumeJob('db'));
    const dep = await terminalDeployment(d, 'db', 0);
    assert.equal(dep.Status, 'successful');
    const [a] = (await api(d.url, 'GET', '/v1/job/db/allocations')).json as Fixture[];
    assert.equal(a.NodeID, v.json.Volume.NodeID);
    const vol = (await api(d.url, 'GET', `/v1/volume/host/${v.json.Volume.ID}`)).json;
    assertContract('HostVolume', vol);
    assert.equal(vol.Allocations.length, 1);
  });
});

test('CapacityBytes is what the plugin reports: mkdir 0, an external plugin the minimum requested or what it was set to report', async () => {
  await withDouble(async (d) => {
    const create = async (name: string, plugin: string) => {
      const body = aHostVolumeCreate(name);
      body.Volume.PluginID = plugin;
      const r = await api(d.url, 'PUT', '/v1/volume/host/create', body);
      assert.equal(r.status, 200, r.text);
      assertContract('HostVolumeCreateResponse', r.json);
      return r.json.Volume;
    };
    assert.equal((await create('dv-a-data-0a1b2c3d', 'mkdir')).CapacityBytes, 0);
    const ext4 = await create('dv-b-data-0a1b2c3d', 'drover-ext4');
    assert.equal(ext4.CapacityBytes, 1 << 30);
    assert.equal((await api(d.url, 'GET', `/v1/volume/host/${ext4.ID}`)).json.CapacityBytes, 1 << 30, 'read back as stored');
    d.control.setVolumePluginCapacity('thin', 1 << 20);
    assert.equal((await create('dv-c-data-0a1b2c3d', 'thin')).CapacityBytes, 1 << 20);
  });
});

test('canaries wait for manual promotion, then the rest is placed and the old version stopped', async () => {
  await withDouble(async (d) => {
    const v0 = aServiceJob('canary');
    v0.TaskGroups[0].Update.AutoPromote = false;
    await register(d, v0);
    assert.equal((await terminalDeployment(d, 'canary', 0)).Status, 'successful');
    const v1 = structuredClone(v0);
    v1.TaskGroups[0].Tasks[0].Config.image = 'nginx:1.28';
    await register(d, v1);
    const waiting = await until('requires promotion', async () => {
      const dep = await latestDeployment(d, 'canary');
      return dep?.JobVersion === 1 && dep.StatusDescription === 'Deployment is running but requires manual promotion' ? dep : undefined;
    });
    assert.equal(waiting.TaskGroups.web.DesiredCanaries, 1);
    assert.equal(waiting.TaskGroups.web.PlacedCanaries.length, 1);
    const p = await api(d.url, 'PUT', `/v1/deployment/promote/${waiting.ID}`, { DeploymentID: waiting.ID, All: true });
    assert.equal(p.status, 200, p.text);
    assertContract('DeploymentUpdateResponse', p.json);
    const dep = await terminalDeployment(d, 'canary', 1);
    assert.equal(dep.Status, 'successful');
    assert.equal(dep.TaskGroups.web.Promoted, true);
    await until('old allocs stopped', async () => {
      const allocs = (await api(d.url, 'GET', '/v1/job/canary/allocations')).json as Fixture[];
      const running = allocs.filter((a) => a.ClientStatus === 'running');
      return running.length === 2 && running.every((a) => a.JobVersion === 1) && allocs.filter((a) => a.JobVersion === 0).every((a) => a.DesiredStatus === 'stop');
    });
    const again = await api(d.url, 'PUT', `/v1/deployment/promote/${waiting.ID}`, { DeploymentID: waiting.ID, All: true });
    assert.equal(again.status, 500);
    assert.match(again.text, /can't promote terminal deployment/);
  });
});

test('auto-promote promotes healthy canaries by itself', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob('auto'));
    await terminalDeployment(d, 'auto', 0);
    const v1 = aServiceJob('auto');
    v1.TaskGroups[0].Tasks[0].Env.X = '1';
    await register(d, v1);
    const dep = await terminalDeployment(d, 'auto', 1);
    assert.equal(dep.Status, 'successful');
    assert.equal(dep.TaskGroups.web.Promoted, true);
  });
});

test('auto-revert: a failed deployment registers the last stable version again as a new version', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob('rev'));
    await terminalDeployment(d, 'rev', 0);
    const bad = aServiceJob('rev');
    bad.TaskGroups[0].Tasks[0].Config.image = 'acme/app:scenario-pull-fail';
    await register(d, bad);
    const failed = await terminalDeployment(d, 'rev', 1);
    assert.equal(failed.Status, 'failed');
    assert.equal(failed.StatusDescription, 'Failed due to unhealthy allocations - rolling back to job version 0');
    const reverted = await terminalDeployment(d, 'rev', 2);
    assert.equal(reverted.Status, 'successful');
    const job = (await api(d.url, 'GET', '/v1/job/rev')).json;
    assert.equal(job.Version, 2);
    assert.equal(job.TaskGroups[0].Tasks[0].Config.image, 'nginx:1.27');
    const versions = (await api(d.url, 'GET', '/v1/job/rev/versions?diffs=true')).json;
    assertContract('JobVersionsResponse', versions);
    assert.deepEqual(versions.Versions.map((v: Fixture) => v.Version), [2, 1, 0]);
    assert.equal(versions.Diffs.length, 2);
  });
});

test('failing a deployment by hand reverts with "Deployment marked as failed"', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob('cancel'));
    await terminalDeployment(d, 'cancel', 0);
    const v1 = aServiceJob('cancel');
    v1.TaskGroups[0].Update.AutoPromote = false;
    v1.TaskGroups[0].Tasks[0].Env.X = '2';
    await register(d, v1);
    const dep = await until('running v1', async () => {
      const x = await latestDeployment(d, 'cancel');
      return x?.JobVersion === 1 ? x : undefined;
    });
    const f = await api(d.url, 'PUT', `/v1/deployment/fail/${dep.ID}`, { DeploymentID: dep.ID });
    assert.equal(f.status, 200, f.text);
    assert.equal(f.json.RevertedJobVersion, 0);
    const failed = (await api(d.url, 'GET', `/v1/deployment/${dep.ID}`)).json;
    assert.equal(failed.StatusDescription, 'Deployment marked as failed - rolling back to job version 0');
    const again = await api(d.url, 'PUT', `/v1/deployment/fail/${dep.ID}`, { DeploymentID: dep.ID });
    assert.equal(again.status, 500);
  });
});

test('revert, scale and deregister (stop, then purge)', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob('ops'));
    await terminalDeployment(d, 'ops', 0);
    const v1 = aServiceJob('ops');
    v1.TaskGroups[0].Tasks[0].Env.X = '3';
    await register(d, v1);
    await terminalDeployment(d, 'ops', 1);
    const bad = await api(d.url, 'PUT', '/v1/job/ops/revert', { JobID: 'ops', JobVersion: 1 });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /can't revert to current version/);
    const enforce = await api(d.url, 'PUT', '/v1/job/ops/revert', { JobID: 'ops', JobVersion: 0, EnforcePriorVersion: 7 });
    assert.equal(enforce.status, 400);
    const rv = await api(d.url, 'PUT', '/v1/job/ops/revert', { JobID: 'ops', JobVersion: 0 });
    assert.equal(rv.status, 200, rv.text);
    assert.equal((await terminalDeployment(d, 'ops', 2)).Status, 'successful');
    assert.equal((await api(d.url, 'GET', '/v1/job/ops')).json.TaskGroups[0].Tasks[0].Env.X, undefined);
    const sc = await api(d.url, 'PUT', '/v1/job/ops/scale', { Count: 4, Target: { Group: 'web' }, Message: 'more' });
    assert.equal(sc.status, 200, sc.text);
    await until('4 running', async () => ((await api(d.url, 'GET', '/v1/job/ops/allocations')).json as Fixture[]).filter((a) => a.ClientStatus === 'running').length === 4);
    const status = (await api(d.url, 'GET', '/v1/job/ops/scale')).json;
    assertContract('JobScaleStatusResponse', status);
    assert.equal(status.TaskGroups.web.Desired, 4);
    assert.equal(status.TaskGroups.web.Events[0].Message, 'more');
    assert.equal((await api(d.url, 'PUT', '/v1/job/ops/scale', { Count: 1, Target: { Group: 'nope' } })).status, 400);
    const stop = await api(d.url, 'DELETE', '/v1/job/ops');
    assert.equal(stop.status, 200);
    assertContract('JobDeregisterResponse', stop.json);
    await until('stopped', async () => {
      const j = (await api(d.url, 'GET', '/v1/job/ops')).json;
      const allocs = (await api(d.url, 'GET', '/v1/job/ops/allocations')).json as Fixture[];
      return j.Stop === true && j.Status === 'dead' && allocs.every((a) => a.DesiredStatus === 'stop');
    });
    const purge = await api(d.url, 'DELETE', '/v1/job/ops?purge=true');
    assert.equal(purge.status, 200);
    assert.equal((await api(d.url, 'GET', '/v1/job/ops')).status, 404);
    assert.equal((await api(d.url, 'DELETE', '/v1/job/ops')).status, 404);
  });
});

test('periodic jobs launch children on force and on the fast clock; batch allocs complete', async () => {
  await withDouble(async (d) => {
    const r = await register(d, aBatchJob('cron'));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.EvalID, '', 'registering a periodic job creates no evaluation');
    assert.equal(r.json.Warnings, '', 'crons (Specs) draw no warning');
    const old = aBatchJob('old-cron');
    old.Periodic.Spec = old.Periodic.Specs[0];
    delete old.Periodic.Specs;
    const w = await register(d, old);
    assert.equal(w.status, 200, w.text);
    assert.match(w.json.Warnings, /cron is deprecated and may be removed in a future release\. Use crons instead/);
    const f = await api(d.url, 'PUT', '/v1/job/cron/periodic/force');
    assert.equal(f.status, 200, f.text);
    assert.ok(f.json.EvalID);
    const list = (await api(d.url, 'GET', '/v1/jobs?prefix=cron/periodic-')).json as Fixture[];
    assert.equal(list.length, 1);
    assert.match(list[0].ID, /^cron\/periodic-\d+$/);
    assert.equal(list[0].ParentID, 'cron');
    const child = await until('child dead', async () => {
      const j = (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(list[0].ID)}`)).json;
      return j.Status === 'dead' ? j : undefined;
    });
    assert.equal(child.Periodic, null);
    const [a] = (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(list[0].ID)}/allocations`)).json as Fixture[];
    assert.equal(a.ClientStatus, 'complete');
    const summary = (await api(d.url, 'GET', '/v1/job/cron/summary')).json;
    assert.equal(summary.Children.Dead, 1);
    for (let i = 0; i < 5; i++) d.control.tickPeriodic();
    assert.equal(((await api(d.url, 'GET', '/v1/jobs?prefix=cron/periodic-')).json as Fixture[]).length, 2, '*/5 fires once in five simulated minutes');
    const notPeriodic = await register(d, aServiceJob('svc'));
    assert.equal(notPeriodic.status, 200);
    assert.equal((await api(d.url, 'PUT', '/v1/job/svc/periodic/force')).status, 400);
  });
});

test('dispatch launches a child of a parameterized job and checks payload and meta', async () => {
  await withDouble(async (d) => {
    const job = aBatchJob('task');
    delete job.Periodic;
    job.ParameterizedJob = { Payload: 'required', MetaRequired: ['backup'] };
    assert.equal((await register(d, job)).status, 200);
    assert.match((await api(d.url, 'PUT', '/v1/job/task/dispatch', { Meta: { backup: 'b1' } })).text, /Payload is not provided but required/);
    assert.match((await api(d.url, 'PUT', '/v1/job/task/dispatch', { Payload: 'aGk=' })).text, /did not provide required meta keys: \[backup\]/);
    const ok = await api(d.url, 'PUT', '/v1/job/task/dispatch', { Payload: 'aGk=', Meta: { backup: 'b1' } });
    assert.equal(ok.status, 200, ok.text);
    assertContract('JobDispatchResponse', ok.json);
    assert.match(ok.json.DispatchedJobID, /^task\/dispatch-\d+-[0-9a-f]{8}$/);
    const child = (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(ok.json.DispatchedJobID)}`)).json;
    assert.equal(child.Dispatched, true);
    assert.equal(child.Meta.backup, 'b1');
    const once = await api(d.url, 'PUT', '/v1/job/task/dispatch?idempotency_token=backup-42', { Payload: 'aGk=', Meta: { backup: 'b2' } });
    const retry = await api(d.url, 'PUT', '/v1/job/task/dispatch?idempotency_token=backup-42', { Payload: 'aGk=', Meta: { backup: 'b2' } });
    assert.equal(retry.json.DispatchedJobID, once.json.DispatchedJobID, 'a retried dispatch with the same token launches nothing new');
    assert.equal(((await api(d.url, 'GET', '/v1/jobs?prefix=task/dispatch-')).json as Fixture[]).length, 2);
  });
});

test('allocation restart, stop (replaced) and stats in Nomad\'s shapes', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob('life'));
    await terminalDeployment(d, 'life', 0);
    const [a] = (await api(d.url, 'GET', '/v1/job/life/allocations')).json as Fixture[];
    const stats = await api(d.url, 'GET', `/v1/client/allocation/${a.ID}/stats`);
    assert.equal(stats.status, 200);
    assertContract('AllocResourceUsage', stats.json);
    assert.ok(stats.json.ResourceUsage.MemoryStats.RSS > 0);
    assert.ok(stats.json.Tasks.app);
    const rs = await api(d.url, 'PUT', `/v1/client/allocation/${a.ID}/restart`, { TaskName: 'app' });
    assert.equal(rs.status, 200, rs.text);
    const after = (await api(d.url, 'GET', `/v1/allocation/${a.ID}`)).json;
    assert.equal(after.TaskStates.app.Restarts, 1);
    assert.ok((after.TaskStates.app.Events as Fixture[]).some((e) => e.Type === 'Restart Signaled'));
    const st = await api(d.url, 'PUT', `/v1/allocation/${a.ID}/stop`);
    assert.equal(st.status, 200);
    assertContract('AllocStopResponse', st.json);
    await until('replacement running', async () => {
      const allocs = (await api(d.url, 'GET', '/v1/job/life/allocations')).json as Fixture[];
      const old = allocs.find((x) => x.ID === a.ID);
      return old?.ClientStatus === 'complete' && allocs.filter((x) => x.ClientStatus === 'running').length === 2;
    });
    assert.equal((await api(d.url, 'GET', '/v1/job/life/deployments')).json.length, 1, 'a replacement gets no new deployment');
    const replacement = ((await api(d.url, 'GET', '/v1/job/life/allocations')).json as Fixture[]).find((x) => x.ID !== a.ID && x.ClientStatus === 'running' && x.CreateIndex > a.CreateIndex);
    assert.ok(replacement);
    assert.equal((await api(d.url, 'GET', `/v1/allocation/${replacement.ID}`)).json.PreviousAllocation, a.ID);
    assert.equal((await api(d.url, 'GET', `/v1/client/allocation/${a.ID}/stats`)).status, 500);
    assert.equal((await api(d.url, 'GET', '/v1/allocation/00000000-dead-beef-0000-000000000000')).status, 404);
  });
});

test('scenario crash: exit 1 until the restart policy gives up; a failing periodic child ends dead with its exit code', async () => {
  await withDouble(async (d) => {
    d.control.setScenario('crashy', 'crash');
    await register(d, aServiceJob('crashy'));
    assert.equal((await terminalDeployment(d, 'crashy', 0)).Status, 'failed');
    const [a] = (await api(d.url, 'GET', '/v1/job/crashy/allocations')).json as Fixture[];
    const full = (await api(d.url, 'GET', `/v1/allocation/${a.ID}`)).json;
    assert.ok((full.TaskStates.app.Events as Fixture[]).filter((e) => e.Type === 'Terminated').every((e) => e.ExitCode === 1));
    assert.match((await api(d.url, 'GET', `/v1/client/fs/logs/${a.ID}?task=app&type=stderr&plain=true`)).text, /panic: runtime error/);
    const cron = aBatchJob('nightly');
    cron.TaskGroups[0].Tasks[0].Config.image = 'busybox:scenario-oom';
    await register(d, cron);
    await api(d.url, 'PUT', '/v1/job/nightly/periodic/force');
    const [child] = (await api(d.url, 'GET', '/v1/jobs?prefix=nightly/periodic-')).json as Fixture[];
    await until('child dead', async () => (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(child.ID)}`)).json.Status === 'dead');
    const [ca] = (await api(d.url, 'GET', `/v1/job/${encodeURIComponent(child.ID)}/allocations`)).json as Fixture[];
    assert.equal(ca.ClientStatus, 'failed');
    const term = (ca.TaskStates.run.Events as Fixture[]).find((e) => e.Type === 'Terminated');
    assert.equal(term.ExitCode, 137);
  });
});

test('the register Submission is kept per version and served by /submission', async () => {
  await withDouble(async (d) => {
    const sub = { Source: 'job "web-app" {}', Format: 'hcl2', VariableFlags: null, Variables: '' };
    assert.equal((await register(d, aServiceJob(), { Submission: sub })).status, 200);
    const got = await api(d.url, 'GET', '/v1/job/web-app/submission?version=0');
    assert.equal(got.status, 200);
    assertContract('JobSubmission', got.json);
    assert.equal(got.json.Source, sub.Source);
    assert.equal((await api(d.url, 'GET', '/v1/job/web-app/submission?version=3')).status, 404);
  });
});

test('backup-style batch job: the failing dump task fails while its poststop uploader succeeds; fs stat/ls/cat/readat serve its files', async () => {
  await withDouble(async (d) => {
    const job = aBatchJob('backup');
    delete job.Periodic;
    job.TaskGroups[0].Tasks[0].Config.image = 'postgres:17-scenario-crash';
    job.TaskGroups[0].Tasks.push({ Name: 'upload', Driver: 'docker', Config: { image: 'rclone/rclone:1' }, Lifecycle: { Hook: 'poststop' }, Resources: { CPU: 100, MemoryMB: 64 } });
    assert.equal((await register(d, job)).status, 200);
    const a = await until('alloc done', async () => {
      const [x] = (await api(d.url, 'GET', '/v1/job/backup/allocations')).json as Fixture[];
      return x && x.ClientStatus !== 'pending' && x.ClientStatus !== 'running' ? x : undefined;
    });
    assert.equal(a.ClientStatus, 'failed');
    assert.equal(a.TaskStates.run.Failed, true);
    assert.equal(a.TaskStates.upload.Failed, false);
    assert.equal((a.TaskStates.upload.Events as Fixture[]).find((e) => e.Type === 'Terminated').ExitCode, 0);
    d.control.writeFile(a.ID, 'alloc/data/dump.pgc', Buffer.from('PGDMP-0123456789'));
    const stat = await api(d.url, 'GET', `/v1/client/fs/stat/${a.ID}?path=/alloc/data/dump.pgc`);
    assert.equal(stat.status, 200);
    assertContract('AllocFileInfo', stat.json);
    assert.equal(stat.json.Size, 16);
    const ls = await api(d.url, 'GET', `/v1/client/fs/ls/${a.ID}?path=/alloc/data`);
    assert.deepEqual((ls.json as Fixture[]).map((f) => f.Name), ['dump.pgc']);
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/cat/${a.ID}?path=alloc/data/dump.pgc`)).text, 'PGDMP-0123456789');
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/readat/${a.ID}?path=alloc/data/dump.pgc&offset=6&limit=4`)).text, '0123');
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/stat/${a.ID}?path=/alloc/data/missing`)).status, 500);
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/cat/${a.ID}?path=../../etc/passwd`)).status, 400);
    assert.match((await api(d.url, 'GET', `/v1/client/fs/cat/${a.ID}?path=alloc/logs/run.stderr.0`)).text, /error: job failed/);
  });
});

test('a batch gate holds matching batch allocations running until it settles; its file stays, its scenario decides the exit', async () => {
  await withDouble(async (d) => {
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const seen: string[] = [];
    const ungate = d.control.gateBatch('restore-', async (a) => {
      seen.push(a.jobId);
      d.control.writeFile(a.id, 'alloc/data/dump.pgc', 'PGDMP');
      await held;
      return a.jobId === 'restore-bad' ? 'crash' : undefined;
    });
    for (const id of ['restore-ok', 'restore-bad', 'other']) {
      const job = aBatchJob(id);
      delete job.Periodic;
      assert.equal((await register(d, job)).status, 200);
    }
    const allocOf = async (id: string): Promise<Fixture | undefined> => ((await api(d.url, 'GET', `/v1/job/${id}/allocations`)).json as Fixture[])[0];
    const done = (x: Fixture | undefined): boolean => x !== undefined && x.ClientStatus !== 'pending' && x.ClientStatus !== 'running';
    await until('ungated job done', async () => (done(await allocOf('other')) ? true : undefined));
    await until('both gated', async () => (seen.length === 2 ? true : undefined));
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await allocOf('restore-ok'))?.ClientStatus, 'running', 'held while the gate runs');
    release();
    const ok = await until('ok done', async () => { const x = await allocOf('restore-ok'); return done(x) ? x : undefined; });
    const bad = await until('bad done', async () => { const x = await allocOf('restore-bad'); return done(x) ? x : undefined; });
    assert.equal(ok.ClientStatus, 'complete');
    assert.equal(bad.ClientStatus, 'failed');
    assert.equal((bad.TaskStates.run.Events as Fixture[]).find((e) => e.Type === 'Terminated').ExitCode, 1);
    assert.equal((await api(d.url, 'GET', `/v1/client/fs/cat/${ok.ID}?path=alloc/data/dump.pgc`)).text, 'PGDMP');
    ungate();
    const again = aBatchJob('restore-later');
    delete again.Periodic;
    assert.equal((await register(d, again)).status, 200);
    await until('ungated after removal', async () => (done(await allocOf('restore-later')) ? true : undefined));
    assert.equal(seen.length, 2);
  }, { stepMs: 20 });
});

test('every object the double holds after all scenarios validates against the contract', async () => {
  await withDouble(async (d) => {
    await api(d.url, 'PUT', '/v1/volume/host/create', aHostVolumeCreate('dv-db-data-0a1b2c3d'));
    const jobs: Fixture[] = [aServiceJob('ok'), aHostVolumeJob('db'), aBatchJob('cron')];
    for (const s of ['pull-fail', 'oom', 'crash', 'unhealthy', 'no-capacity']) {
      const j = aServiceJob(`s-${s}`);
      j.TaskGroups[0].Tasks[0].Config.image = `acme/app:scenario-${s}`;
      jobs.push(j);
    }
    for (const j of jobs) assert.equal((await register(d, j)).status, 200);
    await api(d.url, 'PUT', '/v1/job/cron/periodic/force');
    await until('all deployments terminal', async () => {
      const deps = [...d.control.state.deployments.values()];
      return deps.length >= 7 && deps.every((x) => x.Status !== 'running');
    }, 8000);
    const s = d.control.state;
    for (const e of s.jobs.values()) for (const v of e.versions) assertContract('Job', v);
    for (const ev of s.evals.values()) assertContract('Evaluation', ev);
    for (const a of s.allocs.values()) {
      assertContract('Allocation', a.alloc);
      assertContract('AllocationListStub', s.allocStub(a));
    }
    for (const dep of s.deployments.values()) assertContract('Deployment', dep);
    for (const v of s.volumes.values()) assertContract('HostVolume', v);
    for (const n of s.nodes) assertContract('Node', n);
    for (const e of s.events) assertContract('Event', JSON.parse(e.json));
    for (const e of s.jobs.values()) {
      const j = e.versions[e.versions.length - 1];
      if (!j) continue;
      assertContract('JobListStub', s.jobStub(j));
      assertContract('JobSummary', s.jobSummary(j));
    }
  });
});
