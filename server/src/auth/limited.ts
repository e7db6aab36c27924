/** limited runs a service call and, when it is rate-limited, sets Retry-After before the 429 problem is sent. */
import type { Context } from 'koa';
import { RateLimitedError } from './rate-limit.ts';

/** limited awaits `fn`; a RateLimitedError gets the Retry-After header on `ctx` and is rethrown. */
export async function limited<T>(ctx: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof RateLimitedError) ctx.set('Retry-After', String(e.retryAfterSeconds));
    throw e;
  }
}
