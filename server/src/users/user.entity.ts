/** User entity: one account, identified by its normalized email; the password is stored only as an argon2id hash. */
import { EntitySchema } from 'typeorm';

/** UserRow is a row of `users`. */
export interface UserRow {
  /** id is the user's UUID. */
  id: string;
  /** email is the normalized email (unique). */
  email: string;
  /** name is the display name. */
  name: string;
  /** passwordHash is the argon2id PHC string; never leaves the users/auth services. */
  passwordHash: string;
  /** createdAt is when the account was made. */
  createdAt: Date;
  /** updatedAt is when the account last changed. */
  updatedAt: Date;
}

/** UserEntity maps `users`. */
export const UserEntity = new EntitySchema<UserRow>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: 'uuid', primary: true },
    email: { type: 'text', unique: true },
    name: { type: 'text' },
    passwordHash: { type: 'text', name: 'password_hash' },
    createdAt: { type: 'timestamptz', name: 'created_at' },
    updatedAt: { type: 'timestamptz', name: 'updated_at' },
  },
});
