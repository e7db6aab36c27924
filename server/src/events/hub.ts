/**
 * EventsHub: one subscription per process to the deployment events channel of the EventBus, fanned out to every
 * team event stream of this process. It keeps the last `capacity` events in a ring with ids `<epoch>-<seq>` (the
 * epoch is random per process start), so a client reconnecting to the same replica with Last-Event-ID gets what it
 * missed; any other id is answered with a `reset` event (refetch the state; delivery on the bus is at most once).
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from '../deployments/events.ts';
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';

/** HubEvent is a bus event with its stream id. */
export interface HubEvent {
  /** id is `<epoch>-<seq>`. */
  id: string;
  /** seq orders events of this process. */
  seq: number;
  /** event is the bus event. */
  event: DeploymentBusEvent;
}

/** HubListener hears every event (it filters by team itself). */
export type HubListener = (e: HubEvent) => void;

/** EventsHub fans bus events out to local listeners and remembers recent ones. */
export class EventsHub {
  /** epoch identifies this process's id space. */
  readonly epoch = randomBytes(4).toString('hex');
  private readonly bus: EventBus;
  private readonly capacity: number;
  private readonly ring: HubEvent[] = [];
  private readonly listeners = new Set<HubListener>();
  private seq = 0;
  private sub: Promise<Unsubscribe> | undefined;
  private readonly logger: Logger | undefined;

  constructor(bus: EventBus, opts: { capacity?: number; logger?: Logger } = {}) {
    this.bus = bus;
    this.capacity = opts.capacity ?? 2_000;
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

  /**
   * since returns the remembered events after `lastId`, or null when they cannot be known (another process's id,
   * or older than the ring).
   */
  since(lastId: string): HubEvent[] | null {
    const m = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastId);
    if (!m || m[1] !== this.epoch) return null;
    const seq = Number(m[2]);
    if (seq > this.seq) return null;
    const oldest = this.ring[0]?.seq ?? this.seq + 1;
    if (seq < oldest - 1) return null;
    return this.ring.filter((e) => e.seq > seq);
  }

  /** close unsubscribes from the bus. */
  async close(): Promise<void> {
    const sub = this.sub;
    this.sub = undefined;
    if (sub) await (await sub.catch(() => async () => {}))();
  }

  private onEvent(e: DeploymentBusEvent): void {
    this.seq += 1;
    const he: HubEvent = { id: `${this.epoch}-${this.seq}`, seq: this.seq, event: e };
    this.ring.push(he);
    if (this.ring.length > this.capacity) this.ring.shift();
    for (const l of this.listeners) l(he);
  }
}
