/**
 * Rate limits for the credential endpoints (login, setup, password reset, token creation, invitation acceptance),
 * per client address and per account, counted in the platform's RateLimitStore (Redis or in-process). A refusal is
 * the 429 `auth/rate_limited` error carrying the seconds to wait, which the route sends as Retry-After.
 */
import { DomainError } from '../core/errors.ts';
import type { RateLimitStore } from '../platform/coordination/index.ts';
import { sha256Hex } from './secrets.ts';

/** Limit is one rule: at most `limit` attempts per `windowMs`. */
export interface Limit {
  /** limit is the number of attempts allowed per window (≥ 1). */
  limit: number;
  /** windowMs is the window length. */
  windowMs: number;
}

/** AuthLimits are the limits of every rate-limited action, per address (`ip`) and per account (`account`). */
export interface AuthLimits {
  /** login limits POST /api/auth/login. */
  login: { ip: Limit; account: Limit };
  /** setup limits POST /api/setup. */
  setup: { ip: Limit };
  /** passwordReset limits both password reset endpoints. */
  passwordReset: { ip: Limit; account: Limit };
  /** tokenCreate limits POST /api/tokens (account = the user). */
  tokenCreate: { ip: Limit; account: Limit };
  /** invitationAccept limits POST /api/invitations/accept. */
  invitationAccept: { ip: Limit };
}

const MIN = 60_000;

/** DEFAULT_LIMITS are the production limits. */
export const DEFAULT_LIMITS: Readonly<AuthLimits> = Object.freeze({
  login: { ip: { limit: 50, windowMs: 15 * MIN }, account: { limit: 10, windowMs: 15 * MIN } },
  setup: { ip: { limit: 10, windowMs: 15 * MIN } },
  passwordReset: { ip: { limit: 20, windowMs: 60 * MIN }, account: { limit: 5, windowMs: 60 * MIN } },
  tokenCreate: { ip: { limit: 60, windowMs: 60 * MIN }, account: { limit: 30, windowMs: 60 * MIN } },
  invitationAccept: { ip: { limit: 30, windowMs: 15 * MIN } },
});

/** RateLimitedError is `auth/rate_limited` with the whole seconds to wait (≥ 1). */
export class RateLimitedError extends DomainError {
  /** retryAfterSeconds is what the Retry-After header says. */
  readonly retryAfterSeconds: number;
  constructor(retryAfterMs: number) {
    const s = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super('auth/rate_limited', `Too many attempts; retry in ${s} s`);
    this.retryAfterSeconds = s;
  }
}

/** RateLimiter applies AuthLimits over the platform's RateLimitStore; account keys are hashed so emails never sit in Redis. */
export class RateLimiter {
  private readonly backend: RateLimitStore;
  /** limits are the rules in force. */
  readonly limits: AuthLimits;
  constructor(backend: RateLimitStore, limits: AuthLimits = DEFAULT_LIMITS) {
    this.backend = backend;
    this.limits = limits;
  }

  /** check counts one attempt of `action` for each given key and throws RateLimitedError when any is over. */
  async check(action: keyof AuthLimits, keys: { ip?: string; account?: string }): Promise<void> {
    const rules = this.limits[action] as Partial<Record<'ip' | 'account', Limit>>;
    let wait = 0;
    let refused = false;
    for (const kind of ['ip', 'account'] as const) {
      const rule = rules[kind];
      const value = keys[kind];
      if (!rule || value === undefined) continue;
      const r = await this.backend.hit(this.key(action, kind, value), rule.limit, rule.windowMs);
      if (!r.allowed) {
        refused = true;
        wait = Math.max(wait, r.resetMs);
      }
    }
    if (refused) throw new RateLimitedError(wait);
  }

  /** forget clears the per-account count of `action` (after a successful login, failures start again from zero). */
  async forget(action: keyof AuthLimits, account: string): Promise<void> {
    await this.backend.reset(this.key(action, 'account', account));
  }

  private key(action: string, kind: string, value: string): string {
    return `rl:${action}:${kind}:${sha256Hex(value).slice(0, 32)}`;
  }
}
