/**
 * API tokens: `drv_` + 32 random bytes (base64url), shown once at creation and stored only as their SHA-256. A
 * token acts as its user, limited by its scopes (ScopePermissions); its scopes never exceed the creator's. Expired
 * or deleted tokens stop working at once; the last-used time is written at most once a minute per token.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { ScopePermissions, Scopes, scopesAllow, type Actor, type Scope } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError, invalid } from '../core/errors.ts';
import { decodeCursor, toPage, type Page, type PageParams } from '../core/pagination.ts';
import { isUuid } from '../users/ids.ts';
import { requireScope } from '../teams/access.ts';
import type { RateLimiter } from '../auth/rate-limit.ts';
import { randomSecret, sha256Hex } from '../auth/secrets.ts';

/** TOKEN_PREFIX starts every API token. */
export const TOKEN_PREFIX = 'drv_';
/** TOKEN_RE matches a well-formed API token. */
export const TOKEN_RE = /^drv_[A-Za-z0-9_-]{43}$/;
/** LAST_USED_THROTTLE_MS is the least time between two last-used updates of one token. */
export const LAST_USED_THROTTLE_MS = 60_000;

/** ApiToken is a token as lists show it (never the secret). */
export interface ApiToken {
  /** id is the token's ID. */
  id: string;
  /** name is the user's label. */
  name: string;
  /** prefix is `drv_` and the secret's first 6 characters, to recognise the token. */
  prefix: string;
  /** scopes are the token's scopes. */
  scopes: Scope[];
  /** createdAt, expiresAt and lastUsedAt are ISO 8601 times (null: never). */
  createdAt: string;
  /** expiresAt is when the token stops working, or null. */
  expiresAt: string | null;
  /** lastUsedAt is the last authenticated use, or null. */
  lastUsedAt: string | null;
}

/** CreatedToken is the creation answer: the token's metadata and, this once, the secret. */
export interface CreatedToken extends ApiToken {
  /** token is the secret; it is never shown again. */
  token: string;
}

/** TokenIdentity is what authenticating a token yields. */
export interface TokenIdentity {
  /** id is the token's ID. */
  id: string;
  /** userId is the user it acts as. */
  userId: string;
  /** scopes limit it. */
  scopes: Scope[];
}

interface Row { id: string; user_id: string; name: string; prefix: string; scopes: Scope[]; created_at: Date; expires_at: Date | null; last_used_at: Date | null }

const view = (r: Row): ApiToken => ({
  id: r.id, name: r.name, prefix: r.prefix, scopes: r.scopes, createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at?.toISOString() ?? null, lastUsedAt: r.last_used_at?.toISOString() ?? null,
});

/** TokenService manages API tokens. */
export class TokenService {
  private readonly ds: DataSource;
  private readonly clock: Clock;
  private readonly audit: AuditRecorder;
  private readonly limiter: RateLimiter;
  constructor(deps: { dataSource: DataSource; clock: Clock; audit: AuditRecorder; limiter: RateLimiter }) {
    this.ds = deps.dataSource;
    this.clock = deps.clock;
    this.audit = deps.audit;
    this.limiter = deps.limiter;
  }

  /**
   * create makes a token for the caller; it needs the `manage` scope (a session or an `admin` token), and the new
   * token may not grant a permission the caller's scopes lack. An expiry must lie in the future.
   */
  async create(actor: Actor, input: { name: string; scopes: Scope[]; expiresAt?: Date | undefined }): Promise<CreatedToken> {
    requireScope(actor, 'manage');
    await this.limiter.check('tokenCreate', { ip: actor.ip, account: actor.userId });
    const beyond = input.scopes.filter((s) => !ScopePermissions[s].every((perm) => scopesAllow(actor.scopes, perm)));
    if (beyond.length > 0) throw new DomainError('auth/insufficient_scope', `A token cannot grant scopes its creator lacks: ${beyond.join(', ')}`);
    const now = this.clock.now();
    if (input.expiresAt && input.expiresAt.getTime() <= now.getTime()) {
      throw invalid([{ path: 'body.expiresAt', message: 'must be in the future' }]);
    }
    const secret = `${TOKEN_PREFIX}${randomSecret()}`;
    const scopes = Scopes.filter((s) => input.scopes.includes(s));
    const row: Row = {
      id: randomUUID(), user_id: actor.userId, name: input.name, prefix: secret.slice(0, 10), scopes,
      created_at: now, expires_at: input.expiresAt ?? null, last_used_at: null,
    };
    await this.ds.transaction(async (m) => {
      await m.query(
        'INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [row.id, row.user_id, row.name, sha256Hex(secret), row.prefix, row.scopes, row.created_at, row.expires_at],
      );
      await this.audit.record({ actor, teamId: null, action: 'token.create', targetType: 'token', targetId: row.id, details: { name: row.name, scopes } }, m);
    });
    return { ...view(row), token: secret };
  }

  /** list returns the caller's tokens, oldest first (never the secrets). */
  async list(actor: Actor, page: PageParams): Promise<Page<ApiToken>> {
    requireScope(actor, 'read');
    const c = decodeCursor(page.cursor);
    if (c && (!isUuid(c.id) || Number.isNaN(Date.parse(c.key)))) throw invalid([{ path: 'query.cursor', message: 'not a cursor this API issued' }]);
    const rows: Row[] = c
      ? await this.ds.query(
        'SELECT * FROM api_tokens WHERE user_id = $1 AND (created_at, id) > ($2::timestamptz, $3::uuid) ORDER BY created_at, id LIMIT $4',
        [actor.userId, new Date(c.key), c.id, page.limit + 1])
      : await this.ds.query('SELECT * FROM api_tokens WHERE user_id = $1 ORDER BY created_at, id LIMIT $2', [actor.userId, page.limit + 1]);
    const p = toPage(rows, page.limit, (r) => ({ key: r.created_at.toISOString(), id: r.id }));
    return { items: p.items.map(view), nextCursor: p.nextCursor };
  }

  /** delete revokes one of the caller's tokens (another user's token is `token/not_found`); needs `manage`. */
  async delete(actor: Actor, tokenId: string): Promise<void> {
    requireScope(actor, 'manage');
    if (!isUuid(tokenId)) throw new DomainError('token/not_found');
    await this.ds.transaction(async (m) => {
      const [rows] = (await m.query('DELETE FROM api_tokens WHERE id = $1 AND user_id = $2 RETURNING name', [tokenId, actor.userId])) as [{ name: string }[], number];
      if (rows.length === 0) throw new DomainError('token/not_found');
      await this.audit.record({ actor, teamId: null, action: 'token.delete', targetType: 'token', targetId: tokenId, details: { name: rows[0]?.name } }, m);
    });
  }

  /** authenticate resolves a bearer token to its identity, or null when it is unknown or expired. */
  async authenticate(token: string): Promise<TokenIdentity | null> {
    if (!TOKEN_RE.test(token)) return null;
    const now = this.clock.now();
    const rows: Row[] = await this.ds.query('SELECT * FROM api_tokens WHERE token_hash = $1', [sha256Hex(token)]);
    const r = rows[0];
    if (!r || (r.expires_at && r.expires_at.getTime() <= now.getTime())) return null;
    if (!r.last_used_at || now.getTime() - r.last_used_at.getTime() >= LAST_USED_THROTTLE_MS) {
      await this.ds.query('UPDATE api_tokens SET last_used_at = $2 WHERE id = $1', [r.id, now]);
    }
    return { id: r.id, userId: r.user_id, scopes: r.scopes };
  }
}
