/**
 * Scenarios of the Nomad double: how the allocations of a job behave once placed. Chosen per job through the
 * control API, or from the job itself: an image (or artifact source) containing `scenario-<name>` selects it, so
 * end-to-end tests can pick a failure without special hooks.
 */

/** SCENARIOS lists the behaviours the double simulates. */
export const SCENARIOS = ['healthy', 'pull-fail', 'oom', 'unhealthy', 'no-capacity', 'crash'] as const;

/** Scenario is one simulated behaviour: `healthy` (default), `pull-fail` (Driver Failure pulling the image), `oom` (exit 137, OOM Killed), `unhealthy` (checks fail; the deployment fails on its progress deadline), `no-capacity` (placement fails: memory exhausted, blocked eval), `crash` (exits 1 repeatedly until the restart policy gives up). */
export type Scenario = (typeof SCENARIOS)[number];

/** isScenario says whether a string names a Scenario. */
export function isScenario(s: string): s is Scenario {
  return (SCENARIOS as readonly string[]).includes(s);
}

/** scenarioFromJob returns the scenario named by `scenario-<name>` in any task's image or artifact source, if any. */
export function scenarioFromJob(job: Record<string, unknown>): Scenario | undefined {
  const groups = Array.isArray(job.TaskGroups) ? job.TaskGroups : [];
  for (const g of groups) {
    const tasks = Array.isArray((g as Record<string, unknown>)?.Tasks) ? (g as { Tasks: unknown[] }).Tasks : [];
    for (const t of tasks) {
      const task = t as { Config?: { image?: unknown }; Artifacts?: { GetterSource?: unknown }[] };
      const sources = [task.Config?.image, ...(task.Artifacts ?? []).map((a) => a?.GetterSource)];
      for (const s of sources) {
        if (typeof s !== 'string') continue;
        const found = [...SCENARIOS].sort((a, b) => b.length - a.length).find((name) => s.includes(`scenario-${name}`));
        if (found) return found;
      }
    }
  }
  return undefined;
}
