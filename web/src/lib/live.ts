/**
 * Live deployment states: one team event stream (`GET /api/teams/:teamId/events`) per page that shows deployments.
 * Each `deployment.*` or `service.*` event invalidates the loads that depend on `app:deployments` (and `app:runs`),
 * so lists and timelines update without polling; `reset` (missed events that cannot be replayed: the server replays
 * from its Postgres event log after Last-Event-ID, on any replica, up to a bound) reloads them too, and so does every
 * reopening of the stream after it was open (a new EventSource sends no Last-Event-ID, so nothing would be replayed).
 */
import { invalidate } from '$app/navigation';
import { openStream, type Stream, type StreamState } from './sse.ts';
import { BACKUP_EVENTS } from './backup-events.ts';

const DEPLOYMENT_EVENTS = ['queued', 'deploying', 'healthy', 'failed', 'cancelled', 'superseded', 'removed'].map((s) => `deployment.${s}`);
const SERVICE_EVENTS = ['scaled', 'stopped', 'removed', 'restarted', 'drift', 'run'].map((s) => `service.${s}`);

/** followTeam streams a team's events, calling `onEvent` with each and invalidating the deployment loads; returns the stream. */
export function followTeam(teamId: string, onState?: (s: StreamState) => void, onEvent?: (type: string, data: unknown) => void): Stream {
  let pending: ReturnType<typeof setTimeout> | undefined;
  // Events come in bursts (queued, deploying, healthy within a second): reload at most every 250 ms.
  const reload = () => {
    clearTimeout(pending);
    pending = setTimeout(() => {
      void invalidate('app:deployments');
      void invalidate('app:runs');
    }, 250);
  };
  const events: Record<string, (data: unknown) => void> = { reset: reload };
  for (const name of [...DEPLOYMENT_EVENTS, ...SERVICE_EVENTS]) {
    events[name] = (data) => {
      onEvent?.(name, data);
      reload();
    };
  }
  let opened = false;
  // A database's backup, restore and verification verdicts (`backup.failed`…) reload the backup lists (`app:backups`)
  // and are handed to `onEvent` too (the database page shows a notice for its own).
  for (const name of BACKUP_EVENTS) {
    events[name] = (data) => {
      onEvent?.(name, data);
      void invalidate('app:backups');
    };
  }
  const stream = openStream(`/api/teams/${encodeURIComponent(teamId)}/events`, {
    events,
    onState: (s) => {
      if (s === 'open') {
        if (opened) reload();
        opened = true;
      }
      onState?.(s);
    },
  });
  return { close: () => (clearTimeout(pending), stream.close()) };
}
