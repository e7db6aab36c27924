/** PasswordReset entity: a one-use reset token, stored by its SHA-256, with an expiry. */
import { EntitySchema } from 'typeorm';

/** PasswordResetRow is a row of `password_resets`. */
export interface PasswordResetRow {
  /** id is the row's UUID. */
  id: string;
  /** userId is whose password the token resets. */
  userId: string;
  /** tokenHash is the hex SHA-256 of the token (unique). */
  tokenHash: string;
  /** createdAt is when the reset was asked for. */
  createdAt: Date;
  /** expiresAt is when the token stops working. */
  expiresAt: Date;
  /** usedAt is set when the token was used (or superseded). */
  usedAt: Date | null;
}

/** PasswordResetEntity maps `password_resets`. */
export const PasswordResetEntity = new EntitySchema<PasswordResetRow>({
  name: 'PasswordReset',
  tableName: 'password_resets',
  columns: {
    id: { type: 'uuid', primary: true },
    userId: { type: 'uuid', name: 'user_id' },
    tokenHash: { type: 'text', name: 'token_hash', unique: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    expiresAt: { type: 'timestamptz', name: 'expires_at' },
    usedAt: { type: 'timestamptz', name: 'used_at', nullable: true },
  },
});
