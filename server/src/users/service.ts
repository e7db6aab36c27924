/**
 * Users: creating accounts (email normalized and unique, password hashed with argon2id before any transaction
 * starts) and reading them. Other services call these helpers inside their own transactions.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/errors.ts';
import { normalizeEmail } from './email.ts';

/** PublicUser is a user as the API shows them (never the password hash). */
export interface PublicUser {
  /** id is the user's ID. */
  id: string;
  /** email is the normalized email. */
  email: string;
  /** name is the display name. */
  name: string;
  /** createdAt is when the account was made (ISO 8601). */
  createdAt: string;
}

/** UserRecord is a `users` row as the auth service needs it. */
export interface UserRecord {
  /** id is the user's ID. */
  id: string;
  /** email is the normalized email. */
  email: string;
  /** name is the display name. */
  name: string;
  /** passwordHash is the argon2id PHC string. */
  passwordHash: string;
  /** createdAt is when the account was made. */
  createdAt: Date;
}

interface Row { id: string; email: string; name: string; password_hash: string; created_at: Date }

const toRecord = (r: Row): UserRecord => ({ id: r.id, email: r.email, name: r.name, passwordHash: r.password_hash, createdAt: r.created_at });

/** publicUser strips a UserRecord to what the API may show. */
export function publicUser(u: UserRecord): PublicUser {
  return { id: u.id, email: u.email, name: u.name, createdAt: u.createdAt.toISOString() };
}

/** isUniqueViolation tells whether a Postgres error is a unique violation (SQLSTATE 23505), optionally on `constraint`. */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const err = e as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = err.driverError?.code ?? err.code;
  const c = err.driverError?.constraint ?? err.constraint;
  return code === '23505' && (constraint === undefined || c === constraint);
}

/**
 * insertUser creates a user inside `m`'s transaction from an already computed password hash; a taken email is
 * `user/email_taken`.
 */
export async function insertUser(m: EntityManager, clock: Clock, u: { email: string; name: string; passwordHash: string }): Promise<UserRecord> {
  const now = clock.now();
  const id = randomUUID();
  try {
    await m.query('SAVEPOINT insert_user');
    await m.query(
      'INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)',
      [id, normalizeEmail(u.email), u.name, u.passwordHash, now],
    );
    await m.query('RELEASE SAVEPOINT insert_user');
  } catch (e) {
    if (isUniqueViolation(e)) {
      await m.query('ROLLBACK TO SAVEPOINT insert_user');
      throw new DomainError('user/email_taken', 'A user with this email exists', { errors: [{ path: 'body.email', message: 'is used by another account' }] });
    }
    throw e;
  }
  return { id, email: normalizeEmail(u.email), name: u.name, passwordHash: u.passwordHash, createdAt: now };
}

/** findUserByEmail reads a user by (normalized) email. */
export async function findUserByEmail(m: EntityManager, email: string): Promise<UserRecord | null> {
  const rows: Row[] = await m.query('SELECT * FROM users WHERE email = $1', [normalizeEmail(email)]);
  return rows[0] ? toRecord(rows[0]) : null;
}

/** findUserById reads a user by ID. */
export async function findUserById(m: EntityManager, id: string): Promise<UserRecord | null> {
  const rows: Row[] = await m.query('SELECT * FROM users WHERE id = $1', [id]);
  return rows[0] ? toRecord(rows[0]) : null;
}
