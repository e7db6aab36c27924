/**
 * In-process coordination for a single replica (REDIS_URL unset): the same contract as the Redis implementation,
 * kept in Maps with lazy expiry and a periodic sweep.
 */
import { randomBytes } from 'node:crypto';
import { assertPositive } from './types.ts';
import type { Cache, Coordination, EventBus, Lock, LockLease, RateLimitResult, RateLimitStore, Unsubscribe } from './types.ts';

/** createMemoryCoordination returns the in-process implementations; `now` is injectable for tests. */
export function createMemoryCoordination(now: () => number = Date.now): Coordination {
  const handlers = new Map<string, Set<(m: string) => void>>();
  const windows = new Map<string, { count: number; resetAt: number }>();
  const locks = new Map<string, { token: string; expiresAt: number }>();
  const cache = new Map<string, { value: string; expiresAt: number }>();

  const sweep = setInterval(() => {
    const t = now();
    for (const [k, v] of windows) if (v.resetAt <= t) windows.delete(k);
    for (const [k, v] of locks) if (v.expiresAt <= t) locks.delete(k);
    for (const [k, v] of cache) if (v.expiresAt <= t) cache.delete(k);
  }, 30_000);
  sweep.unref();

  const events: EventBus = {
    async publish(channel, message) {
      const hs = handlers.get(channel);
      if (!hs) return;
      for (const h of [...hs]) queueMicrotask(() => h(message));
    },
    async subscribe(channel, handler): Promise<Unsubscribe> {
      const wrapped = (m: string) => handler(m);
      let hs = handlers.get(channel);
      if (!hs) handlers.set(channel, (hs = new Set()));
      hs.add(wrapped);
      return async () => {
        hs.delete(wrapped);
        if (hs.size === 0) handlers.delete(channel);
      };
    },
  };

  const rateLimits: RateLimitStore = {
    async hit(key, limit, windowMs): Promise<RateLimitResult> {
      assertPositive('limit', limit);
      assertPositive('windowMs', windowMs);
      const t = now();
      let w = windows.get(key);
      if (!w || w.resetAt <= t) windows.set(key, (w = { count: 0, resetAt: t + windowMs }));
      w.count += 1;
      return { allowed: w.count <= limit, count: w.count, remaining: Math.max(0, limit - w.count), resetMs: w.resetAt - t };
    },
    async reset(key) {
      windows.delete(key);
    },
  };

  const held = (lease: LockLease) => {
    const l = locks.get(lease.key);
    return l !== undefined && l.token === lease.token && l.expiresAt > now() ? l : undefined;
  };
  const lock: Lock = {
    async acquire(key, ttlMs) {
      assertPositive('ttlMs', ttlMs);
      const l = locks.get(key);
      if (l && l.expiresAt > now()) return null;
      const token = randomBytes(16).toString('hex');
      locks.set(key, { token, expiresAt: now() + ttlMs });
      return { key, token };
    },
    async release(lease) {
      if (!held(lease)) return false;
      locks.delete(lease.key);
      return true;
    },
    async extend(lease, ttlMs) {
      assertPositive('ttlMs', ttlMs);
      const l = held(lease);
      if (!l) return false;
      l.expiresAt = now() + ttlMs;
      return true;
    },
  };

  const c: Cache = {
    async get(key) {
      const e = cache.get(key);
      if (!e) return undefined;
      if (e.expiresAt <= now()) {
        cache.delete(key);
        return undefined;
      }
      return e.value;
    },
    async set(key, value, ttlMs) {
      assertPositive('ttlMs', ttlMs);
      cache.set(key, { value, expiresAt: now() + ttlMs });
    },
    async delete(key) {
      cache.delete(key);
    },
  };

  return {
    kind: 'memory',
    events,
    rateLimits,
    locks: lock,
    cache: c,
    async ping() {},
    async close() {
      clearInterval(sweep);
      handlers.clear();
    },
  };
}
