/** ApiToken entity: a user's API token, stored by its SHA-256, with scopes, an optional expiry and a last-used time. */
import { EntitySchema } from 'typeorm';
import type { Scope } from '../core/actor.ts';

/** ApiTokenRow is a row of `api_tokens`. */
export interface ApiTokenRow {
  /** id is the token's UUID (the tokenId path parameter). */
  id: string;
  /** userId is the user the token acts as. */
  userId: string;
  /** name is the user's label for the token. */
  name: string;
  /** tokenHash is the hex SHA-256 of the token (unique); the token itself is shown once and never stored. */
  tokenHash: string;
  /** prefix is the first characters of the token (`drv_` + 6), to recognise it in lists. */
  prefix: string;
  /** scopes limit what the token may do. */
  scopes: Scope[];
  /** createdAt is when it was made. */
  createdAt: Date;
  /** expiresAt is when it stops working, or null for never. */
  expiresAt: Date | null;
  /** lastUsedAt is the last authenticated use (updated at most once a minute). */
  lastUsedAt: Date | null;
}

/** ApiTokenEntity maps `api_tokens`. */
export const ApiTokenEntity = new EntitySchema<ApiTokenRow>({
  name: 'ApiToken',
  tableName: 'api_tokens',
  columns: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', name: 'user_id' },
    name: { type: 'text' },
    tokenHash: { type: 'text', name: 'token_hash', unique: true },
    prefix: { type: 'text' },
    scopes: { type: 'text', array: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    expiresAt: { type: 'timestamptz', name: 'expires_at', nullable: true },
    lastUsedAt: { type: 'timestamptz', name: 'last_used_at', nullable: true },
  },
});
