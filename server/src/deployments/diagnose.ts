/**
 * Diagnose: explains a failed Nomad deployment in words a user can act on — the task events of the failed
 * allocation (image pull failed, out of memory, crashed, health check failing with its output), the placement
 * metrics of evaluations that could not place (no node with capacity, no node with the volume) — and captures the
 * last 64 KiB of that allocation's stdout and stderr through the client fs logs API (Nomad garbage-collects them).
 */
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { Failure } from './store.ts';

/** OUTPUT_TAIL_BYTES is how much of a failed allocation's output is kept. */
export const OUTPUT_TAIL_BYTES = 64 * 1024;

/** Diagnosis is the reason shown to the user, the structured failure and the captured output. */
export interface Diagnosis {
  /** reason is one human sentence. */
  reason: string;
  /** failure holds the cause, events and placement metrics. */
  failure: Failure;
  /** output is the output tail (stdout then stderr), or null when none could be read. */
  output: string | null;
}

interface TaskEventLike { Type?: string; Message?: string; DisplayMessage?: string; Details?: Record<string, string> | null; ExitCode?: number }

function text(e: TaskEventLike): string {
  return e.DisplayMessage || e.Message || e.Details?.message || '';
}

/** placementOf sums the placement metrics of the job's evaluations that failed to place a group. */
export async function placementOf(nomad: NomadClient, namespace: string, jobId: string, evalIds: readonly string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const evals = (await nomad.jobs.evaluations(jobId, { namespace })).data.filter((e) => evalIds.length === 0 || evalIds.includes(e.ID ?? ''));
  for (const ev of evals) {
    for (const m of Object.values(ev.FailedTGAllocs ?? {})) {
      for (const [k, v] of Object.entries(m?.DimensionExhausted ?? {})) out[`exhausted ${k}`] = (out[`exhausted ${k}`] ?? 0) + v;
      for (const [k, v] of Object.entries(m?.ConstraintFiltered ?? {})) out[k] = (out[k] ?? 0) + v;
      for (const [k, v] of Object.entries(m?.ClassFiltered ?? {})) out[`class ${k}`] = (out[`class ${k}`] ?? 0) + v;
    }
  }
  return out;
}

/** captureOutput reads the tail of a task's stdout and stderr (at most OUTPUT_TAIL_BYTES in all). */
export async function captureOutput(nomad: NomadClient, namespace: string, allocId: string, task: string): Promise<string | null> {
  const parts: string[] = [];
  for (const type of ['stdout', 'stderr'] as const) {
    try {
      const signal = AbortSignal.timeout(5_000);
      const chunks = await nomad.fs.logs(allocId, { task, type, origin: 'end', offset: OUTPUT_TAIL_BYTES, plain: true }, { namespace, signal });
      const bufs: Buffer[] = [];
      for await (const c of chunks) bufs.push(Buffer.from(c.data));
      const t = Buffer.concat(bufs).toString('utf8');
      if (t !== '') parts.push(`--- ${type} ---\n${t}`);
    } catch {
      // the client may have garbage-collected the allocation: keep what was read
    }
  }
  if (parts.length === 0) return null;
  const all = Buffer.from(parts.join('\n'), 'utf8');
  return all.length > OUTPUT_TAIL_BYTES ? all.subarray(all.length - OUTPUT_TAIL_BYTES).toString('utf8') : all.toString('utf8');
}

/**
 * diagnose explains why the deployment `nomadDeploymentId` of a job failed. `status` is Nomad's status description
 * (used when nothing more specific is found).
 */
export async function diagnose(nomad: NomadClient, namespace: string, jobId: string, nomadDeploymentId: string | undefined, status: string, evalIds: readonly string[]): Promise<Diagnosis> {
  const placement = await placementOf(nomad, namespace, jobId, evalIds);
  const allocs = nomadDeploymentId
    ? (await nomad.deployments.allocations(nomadDeploymentId, { namespace })).data
    : (await nomad.jobs.allocations(jobId, {}, { namespace })).data;
  const bad = allocs.find((a) => a.ClientStatus === 'failed') ?? allocs.find((a) => a.DeploymentStatus?.Healthy === false) ?? allocs[0];
  const events: string[] = [];
  let cause = 'error';
  let reason = status || 'the deployment failed';
  let output: string | null = null;
  if (bad?.ID) {
    const alloc = (await nomad.allocations.info(bad.ID, { namespace })).data;
    const states = alloc.TaskStates ?? {};
    let firstTask = '';
    for (const [task, st] of Object.entries(states)) {
      if (!firstTask) firstTask = task;
      for (const e of (st?.Events ?? []) as TaskEventLike[]) {
        if (['Received', 'Task Setup', 'Started', 'Driver'].includes(e.Type ?? '')) continue;
        events.push(`${task}: ${e.Type ?? ''}: ${text(e)}`.trim());
        const msg = text(e);
        if (cause === 'error' || cause === 'crashed') {
          if (e.Type === 'Driver Failure' && /pull/i.test(msg)) { cause = 'pull_failed'; reason = `image pull failed: ${msg}`; }
          else if (/OOM/i.test(msg) || e.Details?.oom_killed === 'true') { cause = 'oom'; reason = `out of memory: task ${task} was OOM killed (exit code 137); raise resources.memory`; }
          else if (e.Type === 'Alloc Unhealthy') { cause = 'unhealthy'; reason = `health check failing: ${msg}${e.Details?.output ? ` — ${e.Details.output}` : ''}`; }
          else if (e.Type === 'Terminated' && cause === 'error') { cause = 'crashed'; reason = `task ${task} exited: ${msg}`; }
        }
      }
    }
    output = firstTask ? await captureOutput(nomad, namespace, bad.ID, firstTask) : null;
  }
  if (cause === 'error' || cause === 'crashed') {
    const volumes = Object.entries(placement).find(([k]) => /host volume/i.test(k));
    const exhausted = Object.entries(placement).filter(([k]) => k.startsWith('exhausted '));
    if (volumes) { cause = 'missing_volume'; reason = `no node has the volume: ${volumes[0]} on ${volumes[1]} node(s)`; }
    else if (exhausted.length > 0 && cause === 'error') {
      cause = 'no_capacity';
      reason = `no node with capacity: ${exhausted.map(([k, v]) => `${k.replace('exhausted ', '')} exhausted on ${v} node(s)`).join(', ')}`;
    }
  }
  if (cause === 'error' && /progress deadline/i.test(status)) cause = 'deadline';
  return { reason, failure: { cause, events: events.slice(-20), placement, allocationId: bad?.ID ?? null }, output };
}
