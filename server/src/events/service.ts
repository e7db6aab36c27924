/**
 * EventsService: authorizes a caller on a team and serves the team's deployment and service events — missed ones
 * replayed from the Postgres event log, then live ones from the EventsHub — filtered to what the caller may see: the
 * team's events, and for a member limited to chosen projects only those of services in them (a service's project is
 * looked up once and cached).
 */
import type { DataSource } from 'typeorm';
import type { AccessChecker, Membership } from '../core/access.ts';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import { isUuid } from '../projects/scope.ts';
import type { DeploymentBusEvent } from '../deployments/events.ts';
import type { EventsHub, HubEvent } from './hub.ts';
import type { EventLog } from './log.ts';

/** EventSink is where a team stream writes (an SSE stream in production). */
export interface EventSink {
  /** send writes one event; false once the client is gone or dropped. */
  send(e: { id?: string; event: string; data: string }): boolean;
  /** closed resolves once the stream is over. */
  readonly closed: Promise<unknown>;
}

/** EventsService serves team event streams. */
export class EventsService {
  private readonly dataSource: DataSource;
  private readonly access: AccessChecker;
  private readonly hub: EventsHub;
  private readonly log: EventLog;
  private readonly projects = new Map<string, string | null>();

  constructor(deps: { dataSource: DataSource; access: AccessChecker; hub: EventsHub; log: EventLog }) {
    this.dataSource = deps.dataSource;
    this.access = deps.access;
    this.hub = deps.hub;
    this.log = deps.log;
  }

  /** authorize returns the caller's membership of the team (`team/not_found` when not a member). */
  async authorize(actor: Actor, teamId: string): Promise<Membership> {
    if (!isUuid(teamId)) throw new DomainError('team/not_found');
    await this.hub.start();
    return this.access.requireTeam(actor, teamId, 'read');
  }

  /**
   * stream serves the team's events into `sink` until it closes. With a Last-Event-ID it first replays the missed
   * events from the event log (or sends `reset` when they cannot be replayed), without gap or duplicate at the seam
   * with the live stream: it listens first, replays, then passes the live events heard meanwhile that are newer than
   * the client's id and were not replayed. Then `ready`, then live events as they come.
   */
  async stream(m: Membership, lastEventId: string | undefined, sink: EventSink): Promise<void> {
    const pending: HubEvent[] = [];
    let replaying = true;
    const replayed = new Set<string>();
    let floor: bigint | null = null;
    const deliver = async (id: string | undefined, event: DeploymentBusEvent): Promise<void> => {
      if (event.teamId !== m.teamId) return;
      if (m.projectIds !== null) {
        const project = await this.projectOf(event.serviceId);
        if (!project || !m.projectIds.includes(project)) return;
      }
      const { type, id: _id, ...rest } = event;
      void _id;
      sink.send({ ...(id !== undefined ? { id } : {}), event: type, data: JSON.stringify({ type, ...rest }) });
    };
    const live = (e: HubEvent): Promise<void> => {
      if (e.id !== undefined && (replayed.has(e.id) || (floor !== null && BigInt(e.id) <= floor))) return Promise.resolve();
      return deliver(e.id, e.event);
    };
    let chain = Promise.resolve();
    const stop = this.hub.listen((e) => {
      if (e.event.teamId !== m.teamId) return;
      if (replaying) pending.push(e);
      else chain = chain.then(() => live(e)).catch(() => {});
    });
    try {
      if (lastEventId) {
        const r = await this.log.since(m.teamId, lastEventId);
        if (r.kind === 'reset') {
          if (r.latest !== undefined) floor = BigInt(r.latest);
          sink.send({
            ...(r.latest !== undefined ? { id: r.latest } : {}), event: 'reset',
            data: JSON.stringify({ reason: r.reason, message: 'Events since this id cannot be replayed; refetch the current state.' }),
          });
        } else {
          floor = BigInt(lastEventId);
          for (const e of r.events) {
            if (e.id !== undefined) replayed.add(e.id);
            await deliver(e.id, e);
          }
        }
      }
      for (const e of pending) await live(e);
      pending.length = 0;
      replaying = false;
      sink.send({ event: 'ready', data: JSON.stringify({ teamId: m.teamId }) });
      await sink.closed;
    } finally {
      stop();
    }
  }

  private async projectOf(serviceId: string): Promise<string | null> {
    if (this.projects.has(serviceId)) return this.projects.get(serviceId) ?? null;
    if (!isUuid(serviceId)) return null;
    try {
      // A database's backup, restore and verification events carry the database's ID where a service's would be.
      const rows = (await this.dataSource.query('SELECT project_id FROM services WHERE id = $1 UNION ALL SELECT project_id FROM databases WHERE id = $1 LIMIT 1', [serviceId])) as { project_id: string }[];
      const p = rows[0]?.project_id ?? null;
      if (this.projects.size >= 10_000) this.projects.clear();
      if (p) this.projects.set(serviceId, p);
      return p;
    } catch {
      return null; // a limited member sees nothing it cannot be shown to be allowed
    }
  }
}
