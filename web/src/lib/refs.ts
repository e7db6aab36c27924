/**
 * Variable references: a value may embed `${{ target.KEY }}` where target is a service slug of the same
 * environment, `shared` (the environment's shared variables) or a database. The canvas draws an edge per
 * referenced target; the variables editor autocompletes them.
 */

/** Reference is one `${{ target.KEY }}` occurrence. */
export interface Reference {
  /** target is the service slug, database name or `shared`. */
  target: string;
  /** key is the referenced variable. */
  key: string;
}

const REF = /\$\{\{\s*([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

/** parseReferences returns every well-formed reference in a value, in order. */
export function parseReferences(value: string): Reference[] {
  const out: Reference[] = [];
  for (const m of value.matchAll(REF)) out.push({ target: m[1] ?? '', key: m[2] ?? '' });
  return out;
}

/** hasReference tells whether a value contains at least one well-formed reference. */
export function hasReference(value: string): boolean {
  return parseReferences(value).length > 0;
}
