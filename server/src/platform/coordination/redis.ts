/**
 * Redis coordination (REDIS_URL set), on ioredis: Lua scripts make rate-limit hits and token-checked lock
 * release/extend atomic. Commands fail fast while Redis is unreachable (no offline queue) and every failure is
 * turned into CoordinationUnavailableError.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { assertPositive, CoordinationUnavailableError } from './types.ts';
import type { Cache, Coordination, EventBus, Lock, RateLimitResult, RateLimitStore, Unsubscribe } from './types.ts';

/** RedisCoordinationOptions configure createRedisCoordination. */
export interface RedisCoordinationOptions {
  /** url is the redis:// or rediss:// URL. */
  url: string;
  /** prefix is put before every key and channel (default `drover:`), so several installations can share a Redis. */
  prefix?: string;
  /** commandTimeoutMs bounds each command (default 2 s). */
  commandTimeoutMs?: number;
  /** onError receives connection errors (default: ignored; the platform logs them). */
  onError?: (e: Error) => void;
}

const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;

function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, rej) => { timer = setTimeout(() => rej(new Error(`no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * createRedisCoordination connects to Redis and returns the four interfaces on it. It resolves even when Redis is
 * down at boot (ioredis keeps reconnecting); operations then throw CoordinationUnavailableError and ping() fails,
 * which makes /readyz report Redis.
 */
export async function createRedisCoordination(options: RedisCoordinationOptions): Promise<Coordination> {
  const prefix = options.prefix ?? 'drover:';
  const commandTimeoutMs = options.commandTimeoutMs ?? 2_000;
  const common = {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: (times: number) => Math.min(50 * 2 ** times, 2_000),
  };
  const redis = new Redis(options.url, common);
  const onError = options.onError ?? (() => undefined);
  redis.on('error', onError);
  await redis.connect().catch(onError);
  let subscriber: Redis | undefined;
  const handlers = new Map<string, Set<(m: string) => void>>();

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new CoordinationUnavailableError(`Redis ${what} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  async function getSubscriber(): Promise<Redis> {
    if (!subscriber) {
      const s = new Redis(options.url, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
      s.on('error', onError);
      s.on('messageBuffer', (channel: Buffer, message: Buffer) => {
        const hs = handlers.get(channel.toString().slice(prefix.length));
        if (hs) for (const h of [...hs]) h(message.toString());
      });
      subscriber = s;
      await s.connect();
    }
    return subscriber;
  }

  const events: EventBus = {
    async publish(channel, message) {
      await call('publish', () => redis.publish(prefix + channel, message));
    },
    async subscribe(channel, handler): Promise<Unsubscribe> {
      const wrapped = (m: string) => handler(m);
      let hs = handlers.get(channel);
      if (!hs) {
        handlers.set(channel, (hs = new Set()));
        try {
          // The subscriber queues commands while disconnected (so it resubscribes after an outage); bound the wait.
          await call('subscribe', () => within(commandTimeoutMs, (async () => {
            const s = await getSubscriber();
            await s.subscribe(prefix + channel);
          })()));
        } catch (e) {
          handlers.delete(channel);
          throw e;
        }
      }
      hs.add(wrapped);
      return async () => {
        hs.delete(wrapped);
        if (hs.size === 0 && handlers.get(channel) === hs) {
          handlers.delete(channel);
          if (subscriber) await call('unsubscribe', () => subscriber!.unsubscribe(prefix + channel));
        }
      };
    },
  };

  const rateLimits: RateLimitStore = {
    async hit(key, limit, windowMs): Promise<RateLimitResult> {
      assertPositive('limit', limit);
      assertPositive('windowMs', windowMs);
      const [count, ttl] = (await call('rate limit', () =>
        redis.eval(HIT, 1, `${prefix}rl:${key}`, String(Math.ceil(windowMs))))) as [number, number];
      return { allowed: count <= limit, count, remaining: Math.max(0, limit - count), resetMs: ttl };
    },
    async reset(key) {
      await call('rate limit reset', () => redis.del(`${prefix}rl:${key}`));
    },
  };

  const locks: Lock = {
    async acquire(key, ttlMs) {
      assertPositive('ttlMs', ttlMs);
      const token = randomBytes(16).toString('hex');
      const ok = await call('lock', () => redis.set(`${prefix}lock:${key}`, token, 'PX', Math.ceil(ttlMs), 'NX'));
      return ok === 'OK' ? { key, token } : null;
    },
    async release(lease) {
      const n = await call('unlock', () => redis.eval(RELEASE, 1, `${prefix}lock:${lease.key}`, lease.token));
      return n === 1;
    },
    async extend(lease, ttlMs) {
      assertPositive('ttlMs', ttlMs);
      const n = await call('lock extend', () => redis.eval(EXTEND, 1, `${prefix}lock:${lease.key}`, lease.token, String(Math.ceil(ttlMs))));
      return n === 1;
    },
  };

  const cache: Cache = {
    async get(key) {
      const v = await call('cache get', () => redis.get(`${prefix}cache:${key}`));
      return v ?? undefined;
    },
    async set(key, value, ttlMs) {
      assertPositive('ttlMs', ttlMs);
      await call('cache set', () => redis.set(`${prefix}cache:${key}`, value, 'PX', Math.ceil(ttlMs)));
    },
    async delete(key) {
      await call('cache delete', () => redis.del(`${prefix}cache:${key}`));
    },
  };

  return {
    kind: 'redis',
    events,
    rateLimits,
    locks,
    cache,
    async ping() {
      const r = await call('ping', () => redis.ping());
      if (r !== 'PONG') throw new CoordinationUnavailableError(`Redis answered ${r} to PING`);
    },
    async close() {
      handlers.clear();
      redis.disconnect();
      subscriber?.disconnect();
    },
  };
}
