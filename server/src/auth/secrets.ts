/**
 * Random credentials and their stored form: every bearer secret (session ID, API token, reset and invitation token)
 * is 32 random bytes, shown to its holder once, and stored only as its SHA-256.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** randomSecret returns 32 random bytes as base64url (43 characters). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** sha256Hex returns the hex SHA-256 of a string: the stored form of a bearer secret. */
export function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** csrfTokenFor derives a session's CSRF token from its cookie value (SHA-256 with a label; cannot be reversed). */
export function csrfTokenFor(sessionSecret: string): string {
  return createHash('sha256').update(`drover-csrf\0${sessionSecret}`, 'utf8').digest('base64url');
}

/** safeEqual compares two strings in constant time (false when their lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** SECRET_SHAPE matches a value randomSecret could have made (so junk never reaches the database). */
export const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
