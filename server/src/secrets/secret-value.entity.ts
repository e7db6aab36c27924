/**
 * The `secret_values` table of the Postgres SecretStore: AES-256-GCM ciphertexts (tag appended), one per owner and
 * name, each with its random 12-byte nonce and the version of the key that sealed it.
 */
import { EntitySchema } from 'typeorm';

/** SecretValueRow is one sealed value; the plaintext is never stored. */
export interface SecretValueRow {
  /** id is the row's UUID. */
  id: string;
  /** teamId is the owning team (part of the AAD). */
  teamId: string;
  /** ownerKind is the owner's kind (part of the AAD). */
  ownerKind: string;
  /** ownerId is the owner's ID (part of the AAD). */
  ownerId: string;
  /** name is the key name inside the owner (part of the AAD). */
  name: string;
  /** keyVersion is the version of the encryption key that sealed the value (for rotation). */
  keyVersion: number;
  /** nonce is the random 12-byte GCM nonce. */
  nonce: Buffer;
  /** ciphertext is the GCM ciphertext followed by its 16-byte tag. */
  ciphertext: Buffer;
  /** createdAt is the creation time. */
  createdAt: Date;
  /** updatedAt is the last time the value was sealed. */
  updatedAt: Date;
}

/** SecretValueEntity maps SecretValueRow to `secret_values`. */
export const SecretValueEntity = new EntitySchema<SecretValueRow>({
  name: 'SecretValue',
  tableName: 'secret_values',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id' },
    ownerKind: { type: 'varchar', length: 16, name: 'owner_kind' },
    ownerId: { type: 'uuid', name: 'owner_id' },
    name: { type: 'varchar', length: 128 },
    keyVersion: { type: 'integer', name: 'key_version' },
    nonce: { type: 'bytea' },
    ciphertext: { type: 'bytea' },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
