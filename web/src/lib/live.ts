/**
 * Live deployment states: one team event stream (`GET /api/teams/:teamId/events`) per page that shows deployments.
 * Each `deployment.*` or `service.*` event invalidates the loads that depend on `app:deployments` (and `app:runs`),
 * so lists and timelines update without polling; `reset` (events missed) reloads them too.
 */
import { invalidate } from '$app/navigation';
import { openStream, type Stream, type StreamState } from './sse.ts';

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
  const stream = openStream(`/api/teams/${encodeURIComponent(teamId)}/events`, { events, ...(onState ? { onState } : {}) });
  return { close: () => (clearTimeout(pending), stream.close()) };
}
