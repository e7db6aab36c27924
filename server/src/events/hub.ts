/**
 * EventsHub: one subscription per process to the deployment events channel of the EventBus, fanned out to every
 * team event stream of this process. A recorded event carries its id from the Postgres event log (`events/log.ts`),
 * and a client that missed events replays them from there, on whichever replica it reaches. While streams listen,
 * the hub also reads the log every `pollMs` for recorded events the bus did not bring (Redis down or a message lost:
 * bus delivery is at most once), so a connected client gets them late rather than never; ids heard recently are
 * remembered so that no event is passed on twice.
 */
import type { Logger } from 'pino';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from '../deployments/events.ts';
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';
import type { EventLog } from './log.ts';

/** HubEvent is a bus event as heard live. */
export interface HubEvent {
  /** id is the event's id in the event log (absent when it was published without being recorded). */
  id?: string;
  /** event is the bus event. */
  event: DeploymentBusEvent;
}

/** HubListener hears every event (it filters by team itself). */
export type HubListener = (e: HubEvent) => void;

/** LOOKBACK is how many ids below the newest one heard the catch-up read looks again (events committed out of id order). */
const LOOKBACK = 200n;
/** SEEN_CAPACITY bounds the ids remembered for deduplication. */
const SEEN_CAPACITY = 5_000;

/** EventsHub fans bus events out to local listeners. */
export class EventsHub {
  private readonly bus: EventBus;
  private readonly listeners = new Set<HubListener>();
  private sub: Promise<Unsubscribe> | undefined;
  private readonly logger: Logger | undefined;
  private readonly log: EventLog | undefined;
  private readonly pollMs: number;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private readonly seen = new Set<string>();
  private cursor: bigint | undefined;
  /** baseline is the newest id when the hub started: older events are never passed on by the catch-up read. */
  private baseline = 0n;

  constructor(bus: EventBus, opts: { logger?: Logger; log?: EventLog; pollMs?: number } = {}) {
    this.bus = bus;
    this.logger = opts.logger;
    this.log = opts.log;
    this.pollMs = Math.max(50, opts.pollMs ?? 5_000);
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
    if (this.log && !this.timer) {
      if (this.cursor === undefined) {
        this.baseline = BigInt(await this.log.newest());
        this.cursor = this.baseline;
      }
      this.timer = setInterval(() => { void this.catchUp(); }, this.pollMs);
      this.timer.unref();
    }
  }

  /** catchUp passes on the recorded events the bus did not bring (only while streams listen); one read at a time. */
  catchUp(): Promise<void> {
    if (!this.log || this.cursor === undefined || this.listeners.size === 0) return Promise.resolve();
    const log = this.log;
    this.polling ??= (async () => {
      const from = this.cursor ?? 0n;
      const low = from - LOOKBACK > this.baseline ? from - LOOKBACK : this.baseline;
      const events = await log.after(String(low), 1_000);
      for (const e of events) this.onEvent(e);
    })().catch((err: unknown) => { this.logger?.warn({ err }, 'events hub could not read the event log'); })
      .finally(() => { this.polling = undefined; });
    return this.polling;
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
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling;
    const sub = this.sub;
    this.sub = undefined;
    if (sub) await (await sub.catch(() => async () => {}))();
  }

  private onEvent(e: DeploymentBusEvent): void {
    if (e.id !== undefined) {
      if (this.seen.has(e.id)) return;
      this.seen.add(e.id);
      if (this.seen.size > SEEN_CAPACITY) {
        for (const old of this.seen) {
          this.seen.delete(old);
          if (this.seen.size <= SEEN_CAPACITY * 0.8) break;
        }
      }
      const id = BigInt(e.id);
      if (this.cursor === undefined || id > this.cursor) this.cursor = id;
    }
    const he: HubEvent = e.id === undefined ? { event: e } : { id: e.id, event: e };
    for (const l of this.listeners) l(he);
  }
}
