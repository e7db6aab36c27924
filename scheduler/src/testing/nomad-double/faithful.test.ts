/**
 * Tests of the places where the double once differed from Nomad: job Meta in the update diff (`tasksUpdated`),
 * completion of promoted deployments whose canaries are the whole count, the progress deadline (simulated time,
 * reset on each healthy allocation), index resets that really go backwards, and MaxParallel pacing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startNomadDouble, type NomadDouble, type NomadDoubleOptions } from './index.ts';
import { aServiceJob, type Fixture } from '../../nomad-validate/fixtures.ts';
import { api, until } from './helpers.ts';
import { SECOND } from '../../nomad-validate/duration.ts';

async function withDouble(fn: (d: NomadDouble) => Promise<void>, opts: NomadDoubleOptions = {}): Promise<void> {
  const d = await startNomadDouble(opts);
  try {
    await fn(d);
  } finally {
    await d.close();
  }
}

const register = (d: NomadDouble, job: Fixture) => api(d.url, 'PUT', '/v1/jobs', { Job: job });
const allocs = async (d: NomadDouble, id: string): Promise<Fixture[]> => (await api(d.url, 'GET', `/v1/job/${id}/allocations`)).json as Fixture[];

async function terminalDeployment(d: NomadDouble, id: string, version: number, timeoutMs = 8000): Promise<Fixture> {
  return until(`deployment of ${id} v${version}`, async () => {
    const deps = (await api(d.url, 'GET', `/v1/job/${id}/deployments`)).json as Fixture[];
    const dep = deps.find((x) => x.JobVersion === version);
    return dep && dep.Status !== 'running' ? dep : undefined;
  }, timeoutMs);
}

test('a change to job-level Meta alone is a destructive update: canaries, new allocations, the old ones stopped (tasksUpdated compares the combined meta)', async () => {
  await withDouble(async (d) => {
    const v0 = aServiceJob('meta');
    v0.Meta['drover.deployment'] = 'd-1';
    await register(d, v0);
    assert.equal((await terminalDeployment(d, 'meta', 0)).Status, 'successful');
    const before = (await allocs(d, 'meta')).filter((a) => a.ClientStatus === 'running').map((a) => a.ID).sort();
    assert.equal(before.length, 2);
    const v1 = structuredClone(v0);
    v1.Meta['drover.deployment'] = 'd-2';
    const plan = await api(d.url, 'PUT', '/v1/job/meta/plan', { Job: v1, Diff: true });
    assert.equal(plan.status, 200, plan.text);
    assert.equal(plan.json.Annotations.DesiredTGUpdates.web.Canary, 1);
    assert.equal(plan.json.Annotations.DesiredTGUpdates.web.InPlaceUpdate, 0);
    await register(d, v1);
    const dep = await terminalDeployment(d, 'meta', 1);
    assert.equal(dep.Status, 'successful');
    assert.equal(dep.TaskGroups.web.DesiredCanaries, 1);
    assert.equal(dep.TaskGroups.web.Promoted, true);
    await until('old allocations stopped, two new ones running', async () => {
      const now = await allocs(d, 'meta');
      const running = now.filter((a) => a.ClientStatus === 'running');
      return running.length === 2 && running.every((a) => a.JobVersion === 1 && !before.includes(a.ID))
        && now.filter((a) => before.includes(a.ID)).every((a) => a.DesiredStatus === 'stop');
    });
  });
});

test('a job Meta key that a group Meta key overrides changes nothing the tasks see: the update is in place', async () => {
  await withDouble(async (d) => {
    const v0 = aServiceJob('shadow');
    v0.Meta.owner = 'a';
    v0.TaskGroups[0].Meta = { owner: 'group' };
    await register(d, v0);
    await terminalDeployment(d, 'shadow', 0);
    const before = (await allocs(d, 'shadow')).map((a) => a.ID).sort();
    const v1 = structuredClone(v0);
    v1.Meta.owner = 'b';
    const plan = await api(d.url, 'PUT', '/v1/job/shadow/plan', { Job: v1, Diff: true });
    assert.equal(plan.json.Annotations.DesiredTGUpdates.web.Canary, 0);
    assert.equal(plan.json.Annotations.DesiredTGUpdates.web.DestructiveUpdate, 0);
    await register(d, v1);
    await until('allocations updated in place', async () => {
      const now = await allocs(d, 'shadow');
      return now.length === 2 && now.every((a) => a.JobVersion === 1) && now.map((a) => a.ID).sort().join() === before.join();
    });
  });
});

test('a promoted deployment whose canaries equal the count completes when the healthy allocations reach the desired total', async () => {
  await withDouble(async (d) => {
    const v0 = aServiceJob('all-canary');
    v0.TaskGroups[0].Count = 1;
    v0.TaskGroups[0].Update.AutoPromote = false;
    await register(d, v0);
    assert.equal((await terminalDeployment(d, 'all-canary', 0)).Status, 'successful');
    const v1 = structuredClone(v0);
    v1.TaskGroups[0].Tasks[0].Config.image = 'nginx:1.28';
    await register(d, v1);
    const waiting = await until('requires promotion', async () => {
      const dep = (await api(d.url, 'GET', '/v1/job/all-canary/deployment')).json;
      return dep?.JobVersion === 1 && dep.StatusDescription === 'Deployment is running but requires manual promotion' ? dep : undefined;
    });
    const p = await api(d.url, 'PUT', `/v1/deployment/promote/${waiting.ID}`, { DeploymentID: waiting.ID, All: true });
    assert.equal(p.status, 200, p.text);
    const dep = await terminalDeployment(d, 'all-canary', 1);
    assert.equal(dep.Status, 'successful');
    assert.equal(dep.TaskGroups.web.HealthyAllocs, 1);
    assert.equal(dep.TaskGroups.web.PlacedAllocs, 1);
  });
});

test('the progress deadline restarts on promotion and on each healthy allocation, so a late promotion under load completes', async () => {
  await withDouble(async (d) => {
    const v0 = aServiceJob('late');
    v0.TaskGroups[0].Update = { ...v0.TaskGroups[0].Update, AutoPromote: false, MinHealthyTime: 10_000_000, HealthyDeadline: 60 * SECOND, ProgressDeadline: 120 * SECOND };
    await register(d, v0);
    assert.equal((await terminalDeployment(d, 'late', 0)).Status, 'successful');
    for (let round = 1; round <= 4; round++) {
      const next = structuredClone(v0);
      next.TaskGroups[0].Tasks[0].Config.image = `nginx:1.${27 + round}`;
      await register(d, next);
      const waiting = await until('requires promotion', async () => {
        const dep = (await api(d.url, 'GET', '/v1/job/late/deployment')).json;
        return dep?.JobVersion === round && dep.StatusDescription === 'Deployment is running but requires manual promotion' ? dep : undefined;
      });
      // Wait well past the deadline counted from the deployment's creation (120 s = 2 simulated minutes → 6 steps).
      await new Promise((r) => setTimeout(r, 150));
      const dep = d.control.state.deployments.get(waiting.ID);
      assert.ok(dep);
      const before = Date.parse(String((dep.TaskGroups as Fixture).web.RequireProgressBy));
      const promotedAt = Date.now();
      d.control.state.promote(dep, 'all');
      assert.ok(Date.parse(String((dep.TaskGroups as Fixture).web.RequireProgressBy)) >= promotedAt + 60, 'promotion restarts the deadline');
      assert.ok(Date.parse(String((dep.TaskGroups as Fixture).web.RequireProgressBy)) > before);
      // A loaded process: every pending timer is overdue when the loop gets back.
      const busy = Date.now() + 120;
      while (Date.now() < busy) { /* block the event loop */ }
      const done = await terminalDeployment(d, 'late', round);
      assert.equal(done.Status, 'successful', `round ${round}: ${done.StatusDescription}`);
      assert.equal(done.TaskGroups.web.HealthyAllocs, 2);
    }
  }, { stepMs: 10 });
});

test('ProgressDeadline 0 means no deadline: a deployment that cannot place stays running (RequireProgressBy is the zero time)', async () => {
  await withDouble(async (d) => {
    const job = aServiceJob('nodeadline');
    job.TaskGroups[0].Update.ProgressDeadline = 0;
    d.control.setScenario('nodeadline', 'no-capacity');
    await register(d, job);
    await new Promise((r) => setTimeout(r, 40 * 10));
    const dep = (await api(d.url, 'GET', '/v1/job/nodeadline/deployment')).json;
    assert.equal(dep.Status, 'running');
    assert.equal(dep.TaskGroups.web.RequireProgressBy, '0001-01-01T00:00:00Z');
    const withDeadline = aServiceJob('deadline');
    d.control.setScenario('deadline', 'no-capacity');
    await register(d, withDeadline);
    const failed = await terminalDeployment(d, 'deadline', 0);
    assert.equal(failed.StatusDescription, 'Failed due to progress deadline');
  }, { stepMs: 10 });
});

test('an index reset goes backwards for every read that was above 1, keeps object order, and grows again', async () => {
  await withDouble(async (d) => {
    await register(d, aServiceJob('idx'));
    await terminalDeployment(d, 'idx', 0);
    for (let i = 0; i < 3; i++) await api(d.url, 'PUT', `/v1/var/app/v${i}`, { Path: `app/v${i}`, Items: { a: '1' } });
    const paths = ['/v1/jobs', '/v1/job/idx', '/v1/job/idx/allocations', '/v1/job/idx/evaluations', '/v1/job/idx/deployments', '/v1/vars', '/v1/evaluations', '/v1/allocations'];
    const before = new Map<string, number>();
    for (const p of paths) before.set(p, Number((await api(d.url, 'GET', p)).headers.get('x-nomad-index')));
    const allocsBefore = (await allocs(d, 'idx')).map((a) => [a.ID, a.CreateIndex] as const).sort((a, b) => a[1] - b[1]).map(([id]) => id);
    const ctl = await api(d.url, 'POST', '/__double/faults', { indexReset: true });
    assert.equal(ctl.status, 200);
    let highest = 0;
    for (const p of paths) {
      const after = Number((await api(d.url, 'GET', p)).headers.get('x-nomad-index'));
      const was = before.get(p) ?? 0;
      assert.ok(after >= 1 && (was <= 1 || after < was), `${p}: ${was} → ${after}`);
      highest = Math.max(highest, after);
    }
    const job = (await api(d.url, 'GET', '/v1/job/idx')).json;
    assert.ok(job.JobModifyIndex <= highest && job.ModifyIndex <= highest);
    const allocsAfter = await allocs(d, 'idx');
    assert.ok(allocsAfter.every((a) => a.CreateIndex <= highest && a.ModifyIndex <= highest));
    assert.deepEqual(allocsAfter.map((a) => [a.ID, a.CreateIndex] as const).sort((a, b) => a[1] - b[1]).map(([id]) => id).filter((id) => allocsBefore.includes(id)), allocsBefore.filter((id) => allocsAfter.some((a) => a.ID === id)), 'order kept');
    // EnforceIndex works with the restored JobModifyIndex, and the index grows again from the restored one.
    const again = aServiceJob('idx');
    again.TaskGroups[0].Count = 3;
    const r = await api(d.url, 'PUT', '/v1/jobs', { Job: again, EnforceIndex: true, JobModifyIndex: job.JobModifyIndex });
    assert.equal(r.status, 200, r.text);
    const grown = Number((await api(d.url, 'GET', '/v1/job/idx')).headers.get('x-nomad-index'));
    assert.ok(grown > highest, `${grown} > ${highest}`);
  });
});

async function rollingUpdate(maxParallel: number): Promise<{ maxInflight: number; sawMixed: boolean; dep: Fixture; evals: Fixture[] }> {
  let out: { maxInflight: number; sawMixed: boolean; dep: Fixture; evals: Fixture[] } | undefined;
  await withDouble(async (d) => {
    const v0 = aServiceJob('roll');
    v0.TaskGroups[0].Count = 4;
    v0.TaskGroups[0].Update = { ...v0.TaskGroups[0].Update, Canary: 0, AutoPromote: false, MaxParallel: maxParallel };
    await register(d, v0);
    assert.equal((await terminalDeployment(d, 'roll', 0)).Status, 'successful');
    const v1 = structuredClone(v0);
    v1.TaskGroups[0].Tasks[0].Config.image = 'nginx:1.28';
    const plan = await api(d.url, 'PUT', '/v1/job/roll/plan', { Job: v1, Diff: true });
    assert.equal(plan.json.Annotations.DesiredTGUpdates.web.DestructiveUpdate, maxParallel, 'the plan shows the first pass');
    assert.equal(plan.json.Annotations.DesiredTGUpdates.web.Ignore, 4 - maxParallel);
    await register(d, v1);
    let maxInflight = 0;
    let sawMixed = false;
    let dep: Fixture;
    for (;;) {
      const list = await allocs(d, 'roll');
      const fresh = list.filter((a) => a.JobVersion === 1 && a.DesiredStatus === 'run');
      maxInflight = Math.max(maxInflight, fresh.filter((a) => a.DeploymentStatus?.Healthy !== true).length);
      const oldRunning = list.filter((a) => a.JobVersion === 0 && a.DesiredStatus === 'run').length;
      sawMixed ||= oldRunning > 0 && fresh.some((a) => a.DeploymentStatus?.Healthy === true);
      assert.ok(oldRunning + fresh.length <= 4, `never more than the count desired running: ${oldRunning} old + ${fresh.length} new`);
      const deps = (await api(d.url, 'GET', '/v1/job/roll/deployments')).json as Fixture[];
      dep = deps.find((x) => x.JobVersion === 1);
      if (dep && dep.Status !== 'running') break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const evals = (await api(d.url, 'GET', '/v1/job/roll/evaluations')).json as Fixture[];
    out = { maxInflight, sawMixed, dep, evals };
  }, { stepMs: 30 });
  assert.ok(out);
  return out;
}

test('rolling updates respect MaxParallel: old allocations are replaced that many at a time as successors turn healthy', async () => {
  const one = await rollingUpdate(1);
  assert.equal(one.dep.Status, 'successful', one.dep.StatusDescription);
  assert.equal(one.dep.TaskGroups.web.HealthyAllocs, 4);
  assert.equal(one.maxInflight, 1);
  assert.ok(one.sawMixed, 'old and new versions run side by side during the roll');
  assert.ok(one.evals.filter((e) => e.TriggeredBy === 'deployment-watcher').length >= 3, 'the watcher evaluates each next batch');
  const two = await rollingUpdate(2);
  assert.equal(two.dep.Status, 'successful', two.dep.StatusDescription);
  assert.equal(two.maxInflight, 2);
});
