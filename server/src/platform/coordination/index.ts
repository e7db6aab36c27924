/**
 * Coordination entry point: picks Redis when REDIS_URL is set, the in-process implementations otherwise.
 */
import { createMemoryCoordination } from './memory.ts';
import { createRedisCoordination } from './redis.ts';
import type { Coordination } from './types.ts';

export { createMemoryCoordination } from './memory.ts';
export { createRedisCoordination } from './redis.ts';
export type { RedisCoordinationOptions } from './redis.ts';
export { CoordinationUnavailableError } from './types.ts';
export type { Cache, Coordination, EventBus, Lock, LockLease, RateLimitResult, RateLimitStore, Unsubscribe } from './types.ts';

/** createCoordination returns the Redis implementation when `redisUrl` is set, else the in-process one. */
export async function createCoordination(redisUrl: string | undefined, onError?: (e: Error) => void): Promise<Coordination> {
  return redisUrl ? createRedisCoordination({ url: redisUrl, ...(onError ? { onError } : {}) }) : createMemoryCoordination();
}
