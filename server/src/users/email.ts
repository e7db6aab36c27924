/**
 * Emails: one normal form (trimmed, NFC, lower-case) is stored and compared, so `Ann@Example.com ` and
 * `ann@example.com` are the same user.
 */
import { z } from 'zod';

/** normalizeEmail returns the stored form of an email: trimmed, NFC-normalized, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

/** emailSchema validates an email (≤ 254 characters, one `@`, no spaces or control characters) and normalizes it. */
export const emailSchema = z
  .string()
  .max(254)
  .transform(normalizeEmail)
  // eslint-disable-next-line no-control-regex
  .pipe(z.string().regex(/^[^\s@\u0000-\u001f\u007f]+@[^\s@\u0000-\u001f\u007f]+\.[^\s@\u0000-\u001f\u007f]+$/, 'must be an email address'));

/** passwordSchema validates a new password: 10–256 characters (the hash input is bounded so hashing stays cheap). */
export const passwordSchema = z.string().min(10, 'must be at least 10 characters').max(256, 'must be at most 256 characters');

/** personNameSchema validates a person's display name: 1–100 characters, no control characters. */
export const personNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');
