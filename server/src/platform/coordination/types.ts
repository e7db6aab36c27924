/**
 * Coordination between replicas: four small interfaces (event bus, rate-limit store, lock, cache), implemented on
 * Redis when REDIS_URL is set and in-process otherwise (single replica). Nothing durable lives only here: losing
 * Redis loses fan-out, counters and caches, never data. A Redis outage surfaces as CoordinationUnavailableError.
 */
import { DomainError } from '../../core/errors.ts';

/** Unsubscribe stops one subscription. */
export type Unsubscribe = () => Promise<void>;

/** EventBus fans messages out to every subscriber of a channel, on every replica; delivery is at most once. */
export interface EventBus {
  /** publish sends `message` to the subscribers of `channel` (resolves once handed to the transport). */
  publish(channel: string, message: string): Promise<void>;
  /** subscribe calls `handler` for every later message on `channel`; resolves once the subscription is active. */
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe>;
}

/** RateLimitResult is the outcome of one hit. */
export interface RateLimitResult {
  /** allowed is true while the window's count is within the limit. */
  allowed: boolean;
  /** count is the number of hits in the current window, this one included. */
  count: number;
  /** remaining is how many hits are left in the window (≥ 0). */
  remaining: number;
  /** resetMs is how long until the window resets, in milliseconds. */
  resetMs: number;
}

/** RateLimitStore counts hits per key in fixed windows. */
export interface RateLimitStore {
  /** hit counts one hit on `key` in a window of `windowMs` that allows `limit` hits. */
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /** reset forgets the hits on `key` (e.g. after a successful login). */
  reset(key: string): Promise<void>;
}

/** LockLease is a held lock; only its holder (by token) can release or extend it. */
export interface LockLease {
  /** key is the locked name. */
  readonly key: string;
  /** token is the random value identifying this holder. */
  readonly token: string;
}

/** Lock is a mutual-exclusion lease with a TTL (it expires if the holder dies). */
export interface Lock {
  /** acquire takes `key` for `ttlMs`, or resolves null when someone else holds it. */
  acquire(key: string, ttlMs: number): Promise<LockLease | null>;
  /** release frees the lease; false when it had expired or belongs to someone else now. */
  release(lease: LockLease): Promise<boolean>;
  /** extend sets the lease's TTL to `ttlMs` from now; false when it is no longer held. */
  extend(lease: LockLease, ttlMs: number): Promise<boolean>;
}

/** Cache holds string values with a TTL. */
export interface Cache {
  /** get returns the value, or undefined when missing or expired. */
  get(key: string): Promise<string | undefined>;
  /** set stores `value` for `ttlMs`. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** delete removes the key. */
  delete(key: string): Promise<void>;
}

/** Coordination bundles the four interfaces of one implementation. */
export interface Coordination {
  /** kind tells which implementation this is. */
  readonly kind: 'redis' | 'memory';
  /** events is the event bus. */
  readonly events: EventBus;
  /** rateLimits is the rate-limit store. */
  readonly rateLimits: RateLimitStore;
  /** locks is the lock service. */
  readonly locks: Lock;
  /** cache is the cache. */
  readonly cache: Cache;
  /** ping checks the backend answers; throws CoordinationUnavailableError otherwise. */
  ping(): Promise<void>;
  /** close releases connections and timers. */
  close(): Promise<void>;
}

/**
 * CoordinationUnavailableError reports that Redis cannot be reached: the DomainError `coordination/unavailable`
 * (HTTP 503), never "not found" or data loss. Its message names the operation and is only logged.
 */
export class CoordinationUnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('coordination/unavailable', message, options?.cause === undefined ? {} : { cause: options.cause });
    this.name = 'CoordinationUnavailableError';
  }
}

/** assertPositive checks the numeric arguments every implementation shares. */
export function assertPositive(name: string, n: number): void {
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`${name} must be a positive number`);
}
