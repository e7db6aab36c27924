/** IDs: every row ID is a UUID; anything else in a path is answered as "not found" without reaching Postgres. */

/** UUID_RE matches a UUID in its canonical textual form (any version). */
export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** isUuid tells whether a string is a UUID. */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
