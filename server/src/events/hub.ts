/**
 * EventsHub: one subscription per process to the deployment events channel of the EventBus, fanned out to every
 * team event stream of this process. It keeps nothing: a recorded event carries its id from the Postgres event log
 * (`events/log.ts`), and a client that missed events replays them from there, on whichever replica it reaches.
 */
import type { Logger } from 'pino';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from '../deployments/events.ts';
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';

/** HubEvent is a bus event as heard live. */
export interface HubEvent {
  /** id is the event's id in the event log (absent when it was published without being recorded). */
  id?: string;
  /** event is the bus event. */
  event: DeploymentBusEvent;
}

/** HubListener hears every event (it filters by team itself). */
export type HubListener = (e: HubEvent) => void;

/** EventsHub fans bus events out to local listeners. */
export class EventsHub {
  private readonly bus: EventBus;
  private readonly listeners = new Set<HubListener>();
  private sub: Promise<Unsubscribe> | undefined;
  private readonly logger: Logger | undefined;

  constructor(bus: EventBus, opts: { logger?: Logger } = {}) {
    this.bus = bus;
    this.logger = opts.logger;
  }

  /** start subscribes to the bus once (idempotent); rejects when the bus is unavailable (a later call retries). */
  async start(): Promise<void> {
    if (!this.sub) {
      this.sub = subscribeDeploymentEvents(this.bus, (e) => this.onEvent(e));
      this.sub.catch((err: unknown) => {
        this.logger?.warn({ err }, 'events hub could not subscribe');
        this.sub = undefined;
      });
    }
    await this.sub;
  }

  /** listen adds a listener; returns the function that removes it. */
  listen(l: HubListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  /** listeners is the number of listening streams of this process. */
  get listening(): number {
    return this.listeners.size;
  }

  /** close unsubscribes from the bus. */
  async close(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    if (sub) await (await sub.catch(() => async () => {}))();
  }

  private onEvent(e: DeploymentBusEvent): void {
    const he: HubEvent = e.id === undefined ? { event: e } : { id: e.id, event: e };
    for (const l of this.listeners) l(he);
  }
}
