/**
 * Input validation: zod issues become FieldErrors whose paths say where the value stood (`body.domains[0]`,
 * `query.limit`, `params.projectId`), so every 400 names the field.
 */
import type { z } from 'zod';
import { invalid, type FieldError } from '../core/errors.ts';

/** issuePath renders a zod issue path under a root (`body`, `query`, `params`) as `body.a.b[0]`. */
export function issuePath(root: string, path: readonly PropertyKey[]): string {
  let out = root;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

/** fieldErrors turns a zod error into FieldErrors under a root; messages never echo the offending value. */
export function fieldErrors(root: string, error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({ path: issuePath(root, i.path), message: i.message }));
}

/** parseInput validates a value against a schema, throwing the 400 `request/invalid` DomainError on failure. */
export function parseInput<S extends z.ZodType>(root: string, schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw invalid(fieldErrors(root, r.error));
  return r.data;
}
