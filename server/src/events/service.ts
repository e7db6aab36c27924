/**
 * EventsService: authorizes a caller on a team and serves the team's deployment and service events from the
 * EventsHub, filtered to what the caller may see: the team's events, and for a member limited to chosen projects only
 * those of services in them (a service's project is looked up once and cached).
 */
import type { DataSource } from 'typeorm';
import type { AccessChecker, Membership } from '../core/access.ts';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import { isUuid } from '../projects/scope.ts';
import type { EventsHub, HubEvent } from './hub.ts';

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
  private readonly projects = new Map<string, string | null>();

  constructor(deps: { dataSource: DataSource; access: AccessChecker; hub: EventsHub }) {
    this.dataSource = deps.dataSource;
    this.access = deps.access;
    this.hub = deps.hub;
  }

  /** authorize returns the caller's membership of the team (`team/not_found` when not a member). */
  async authorize(actor: Actor, teamId: string): Promise<Membership> {
    if (!isUuid(teamId)) throw new DomainError('team/not_found');
    await this.hub.start();
    return this.access.requireTeam(actor, teamId, 'read');
  }

  /** stream serves the team's events into `sink` until it closes, first replaying what `lastEventId` missed. */
  async stream(m: Membership, lastEventId: string | undefined, sink: EventSink): Promise<void> {
    const pending: HubEvent[] = [];
    let replaying = true;
    const deliver = async (e: HubEvent): Promise<void> => {
      if (e.event.teamId !== m.teamId) return;
      if (m.projectIds !== null) {
        const project = await this.projectOf(e.event.serviceId);
        if (!project || !m.projectIds.includes(project)) return;
      }
      const { type, ...rest } = e.event;
      sink.send({ id: e.id, event: type, data: JSON.stringify({ type, ...rest }) });
    };
    let chain = Promise.resolve();
    const stop = this.hub.listen((e) => {
      if (replaying) pending.push(e);
      else chain = chain.then(() => deliver(e)).catch(() => {});
    });
    try {
      if (lastEventId) {
        const missed = this.hub.since(lastEventId);
        if (missed === null) sink.send({ event: 'reset', data: JSON.stringify({ reason: 'events_unknown', message: 'Events since this id cannot be replayed; refetch the current state.' }) });
        else for (const e of missed) await deliver(e);
      }
      const last = lastEventId ? this.hub.since(lastEventId)?.at(-1)?.seq ?? 0 : 0;
      for (const e of pending) if (e.seq > last) await deliver(e);
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
      const rows = (await this.dataSource.query('SELECT project_id FROM services WHERE id = $1', [serviceId])) as { project_id: string }[];
      const p = rows[0]?.project_id ?? null;
      if (this.projects.size >= 10_000) this.projects.clear();
      if (p) this.projects.set(serviceId, p);
      return p;
    } catch {
      return null; // a limited member sees nothing it cannot be shown to be allowed
    }
  }
}
