/**
 * Sessions: a session ID is 32 random bytes, given to the browser once in the `drover_session` cookie and stored
 * only as its SHA-256, with an expiry; revoking sets `revoked_at`. The CSRF token is derived from the ID
 * (csrfTokenFor), so it needs no storage and dies with the session.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../core/clock.ts';
import { csrfTokenFor, randomSecret, SECRET_SHAPE, sha256Hex } from './secrets.ts';

/** DEFAULT_SESSION_TTL_MS is how long a session lasts: 14 days. */
export const DEFAULT_SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

/** IssuedSession is a new session: the cookie value and CSRF token are secrets shown to the client once. */
export interface IssuedSession {
  /** id is the session row's ID. */
  id: string;
  /** secret is the cookie value. */
  secret: string;
  /** csrfToken is the value the client sends back in X-CSRF-Token. */
  csrfToken: string;
  /** expiresAt is when the session ends. */
  expiresAt: Date;
}

/** ActiveSession is a session that authenticated a request. */
export interface ActiveSession {
  /** id is the session row's ID. */
  id: string;
  /** userId is the session's user. */
  userId: string;
  /** expiresAt is when it ends. */
  expiresAt: Date;
}

/** SessionStore creates, finds and revokes sessions. */
export class SessionStore {
  private readonly ds: DataSource;
  private readonly clock: Clock;
  private readonly ttlMs: number;
  constructor(ds: DataSource, clock: Clock, ttlMs: number = DEFAULT_SESSION_TTL_MS) {
    this.ds = ds;
    this.clock = clock;
    this.ttlMs = ttlMs;
  }

  /** create makes a session for a user (inside `m`'s transaction when given). */
  async create(userId: string, ip: string, m: EntityManager = this.ds.manager): Promise<IssuedSession> {
    const secret = randomSecret();
    const now = this.clock.now();
    const expiresAt = new Date(now.getTime() + this.ttlMs);
    const id = randomUUID();
    await m.query(
      'INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, ip) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, userId, sha256Hex(secret), now, expiresAt, ip],
    );
    return { id, secret, csrfToken: csrfTokenFor(secret), expiresAt };
  }

  /** find returns the live (unexpired, unrevoked) session for a cookie value, or null. */
  async find(secret: string): Promise<ActiveSession | null> {
    if (!SECRET_SHAPE.test(secret)) return null;
    const rows: { id: string; user_id: string; expires_at: Date }[] = await this.ds.query(
      'SELECT id, user_id, expires_at FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2',
      [sha256Hex(secret), this.clock.now()],
    );
    const r = rows[0];
    return r ? { id: r.id, userId: r.user_id, expiresAt: r.expires_at } : null;
  }

  /** revokeSecret revokes the session a cookie value names (no-op when unknown); returns its ID if one was revoked. */
  async revokeSecret(secret: string, m: EntityManager = this.ds.manager): Promise<string | null> {
    if (!SECRET_SHAPE.test(secret)) return null;
    const rows: { id: string }[] = await m.query(
      'UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id',
      [sha256Hex(secret), this.clock.now()],
    );
    return (rows as unknown as [{ id: string }[], number])[0]?.[0]?.id ?? null;
  }

  /** revoke revokes a session by its row ID. */
  async revoke(id: string, m: EntityManager = this.ds.manager): Promise<void> {
    await m.query('UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, this.clock.now()]);
  }

  /** revokeAllOf revokes every session of a user (after a password reset). */
  async revokeAllOf(userId: string, m: EntityManager = this.ds.manager): Promise<void> {
    await m.query('UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL', [userId, this.clock.now()]);
  }
}
