/**
 * How the screens show a deployment's outcome. A deployment that ended healthy without registering anything (a
 * database whose specification was unchanged: the engine leaves its running allocation alone) carries a reason that
 * starts with `unchanged:`; it is shown as "unchanged", not as a fresh healthy rollout. A service deployment of an
 * environment deploy records what it did with the environment's databases in a `databases` event of its own log.
 */
import type { components } from './api/schema.d.ts';

/** Deployment is the API form of a deployment. */
export type Deployment = components['schemas']['Deployment'];

/** Tone is a badge colour class of app.css ('' is neutral). */
export type Tone = '' | 'ok' | 'warn' | 'bad';

/** STATE_TONE maps each deployment state to its badge tone. */
export const STATE_TONE: Record<Deployment['state'], Tone> = { queued: '', deploying: 'warn', healthy: 'ok', failed: 'bad', cancelled: 'bad', superseded: '', removed: '' };

/** isUnchanged tells whether a deployment ended without registering because its database was unchanged. */
export function isUnchanged(d: Pick<Deployment, 'state' | 'reason'>): boolean {
  return d.state === 'healthy' && d.reason.startsWith('unchanged:');
}

/** outcome is the label and tone of a deployment's badge: its state, or `unchanged`. */
export function outcome(d: Pick<Deployment, 'state' | 'reason'>): { label: string; tone: Tone } {
  return isUnchanged(d) ? { label: 'unchanged', tone: 'ok' } : { label: d.state, tone: STATE_TONE[d.state] };
}

/** inFlight tells whether a deployment is still queued or deploying. */
export function inFlight(d: Pick<Deployment, 'state'>): boolean {
  return d.state === 'queued' || d.state === 'deploying';
}

/** DatabaseOutcome is what a service deployment did with one database of its environment. */
export interface DatabaseOutcome {
  /** status is `unchanged` (left running), `deployed` (registered), `removed` or `pending` (not reached yet). */
  status: 'unchanged' | 'deployed' | 'removed' | 'pending';
  /** note is the engine's own words, when there are any. */
  note: string;
}

/** DeploymentEvent is the API form of one entry of a deployment's event log. */
export type DeploymentEvent = components['schemas']['DeploymentEvent'];

/** DatabaseEventEntry is what one deployment did with one database, as a `databases` event's data lists it. */
export type DatabaseEventEntry = components['schemas']['DeploymentEventDatabase'];

/** DatabasesNote is a `databases` event as databaseOutcome reads it: its message and, for newer records, its data. */
export type DatabasesNote = Pick<DeploymentEvent, 'message'> & { data?: DeploymentEvent['data'] };

/** entryNote is a database entry of a `databases` event in the engine's own words (those of its message). */
function entryNote(e: DatabaseEventEntry): string {
  if (e.outcome === 'registered') return `database ${e.jobId} registered${e.volume ? ` on volume ${e.volume}` : ''}`;
  if (e.outcome === 'removed') return `removed database ${e.jobId} deregistered (its volume is kept)`;
  return `database ${e.name} unchanged: still running deployment ${e.runningDeploymentId ?? '(unknown)'} (nothing registered)`;
}

/**
 * databaseOutcome reads, from the `databases` events of service deployments, what happened to database `db`: from an
 * event's `data.databases` (entries matched by database ID) when it has them; an event without data (an older record)
 * is read from its message (`; `-separated parts such as `database maindb unchanged: still running deployment …
 * (nothing registered)` or `database <job ID> registered on volume …`, matched by name: the Nomad job ID is
 * `<project>-<environment>-<name>-<hash>`). Pending when no event names it.
 */
export function databaseOutcome(notes: readonly DatabasesNote[], db: { id: string; name: string }): DatabaseOutcome {
  const entries = notes.flatMap((n) => n.data?.databases ?? []).filter((e) => e.databaseId === db.id);
  const parts = notes.filter((n) => !n.data?.databases).flatMap((n) => n.message.split('; '));
  // In a batch of several services the first deployment to run registers a changed database and the others then find
  // it unchanged: a registration by any deployment of the batch is what the batch did.
  for (const e of entries) {
    if (e.outcome === 'registered') return { status: 'deployed', note: entryNote(e) };
    if (e.outcome === 'removed') return { status: 'removed', note: entryNote(e) };
  }
  for (const part of parts) {
    const job = /^database (\S+) registered/.exec(part)?.[1];
    if (job && job.includes(`-${db.name}-`)) return { status: 'deployed', note: part };
    const removed = /^removed database (\S+)/.exec(part)?.[1];
    if (removed && removed.includes(`-${db.name}-`)) return { status: 'removed', note: part };
  }
  const same = entries.find((e) => e.outcome === 'unchanged');
  if (same) return { status: 'unchanged', note: entryNote(same) };
  for (const part of parts) {
    if (part.startsWith(`database ${db.name} unchanged`)) return { status: 'unchanged', note: part };
  }
  return { status: 'pending', note: '' };
}
