/** Session entity: a cookie session, stored by the SHA-256 of its random ID, with an expiry and a revocation time. */
import { EntitySchema } from 'typeorm';

/** SessionRow is a row of `sessions`. */
export interface SessionRow {
  /** id is the row's UUID (not the cookie value). */
  id: string;
  /** userId is the session's user. */
  userId: string;
  /** tokenHash is the hex SHA-256 of the cookie value (unique); the value itself is never stored. */
  tokenHash: string;
  /** createdAt is the login time. */
  createdAt: Date;
  /** expiresAt is when the session stops working. */
  expiresAt: Date;
  /** revokedAt is set by logout, rotation or a password reset. */
  revokedAt: Date | null;
  /** ip is the address the login came from. */
  ip: string;
}

/** SessionEntity maps `sessions`. */
export const SessionEntity = new EntitySchema<SessionRow>({
  name: 'Session',
  tableName: 'sessions',
  columns: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', name: 'user_id' },
    tokenHash: { type: 'text', name: 'token_hash', unique: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    expiresAt: { type: 'timestamptz', name: 'expires_at' },
    revokedAt: { type: 'timestamptz', name: 'revoked_at', nullable: true },
    ip: { type: 'text' },
  },
});
