/**
 * Slugs and display names, as platform.md fixes them: slugs are lower-case letters, digits and single hyphens
 * (no `--`, no leading or trailing hyphen), 1–30 characters, and immutable once created.
 */
import { z } from 'zod';

/** SLUG_RE matches a valid slug. */
export const SLUG_RE = /^[a-z0-9](?:[a-z0-9]|-(?!-))*$/;

/** isSlug tells whether a string is a valid slug (1–30 characters, see SLUG_RE). */
export function isSlug(s: string): boolean {
  return s.length >= 1 && s.length <= 30 && SLUG_RE.test(s) && !s.endsWith('-');
}

/** slugSchema validates a slug with a message that says the rule. */
export const slugSchema = z
  .string()
  .min(1)
  .max(30)
  .refine(isSlug, 'must be lower-case letters, digits and single hyphens, not starting or ending with a hyphen');

/** displayNameSchema validates a display name: 1–100 printable characters, trimmed, no control characters. */
export const displayNameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // eslint-disable-next-line no-control-regex
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), 'must not contain control characters');

/** slugify derives a slug proposal from a display name (the caller still validates it and checks uniqueness). */
export function slugify(name: string): string {
  const s = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30)
    .replace(/-+$/g, '');
  return s.length > 0 ? s : 'x';
}
