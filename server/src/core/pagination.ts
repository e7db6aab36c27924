/**
 * Cursor pagination for every list: `?limit=&cursor=` in, `{ items, nextCursor }` out. A cursor is opaque to clients
 * (base64url of the last item's sort key and ID), so lists stay stable while rows are added.
 */
import { z } from 'zod';
import { DomainError } from './errors.ts';

/** PageQuery is the query schema of every list route: `limit` (1–100, default 50) and an optional `cursor`. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(512).optional(),
});

/** PageParams is a parsed PageQuery. */
export type PageParams = z.infer<typeof PageQuery>;

/** Page is one page of a list; nextCursor is null on the last page. */
export interface Page<T> {
  /** items holds at most `limit` entries. */
  items: T[];
  /** nextCursor fetches the following page, or is null when there is none. */
  nextCursor: string | null;
}

/** pageSchema builds the response schema of a list of `item`. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** Cursor is what a cursor encodes: the sort key (an ISO time or a string) and the ID of the last item seen. */
export interface Cursor {
  /** key is the sort key of the last item. */
  key: string;
  /** id breaks ties between equal keys. */
  id: string;
}

/** encodeCursor makes the opaque cursor string for the item after which the next page starts. */
export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.key, c.id]), 'utf8').toString('base64url');
}

/** decodeCursor reads a cursor made by encodeCursor; a tampered cursor is a 400 naming `query.cursor`. */
export function decodeCursor(s: string | undefined): Cursor | null {
  if (s === undefined) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') {
      return { key: v[0], id: v[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new DomainError('request/invalid', 'query.cursor: not a cursor this API issued', {
    errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
  });
}

/** toPage cuts a list fetched with `limit + 1` rows into a Page, deriving the next cursor from the last item. */
export function toPage<T>(rows: T[], limit: number, cursorOf: (row: T) => Cursor): Page<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null };
}
