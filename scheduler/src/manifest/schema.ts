/**
 * The manifest's published JSON Schema (`scheduler/schemas/manifest.schema.json`) compiled with ajv, and its errors
 * turned into problems with manifest paths (`services.web.domains[0]`), naming unknown keys.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { Problem } from './types.ts';

/** manifestSchemaPath is the file path of the published schema. */
export const manifestSchemaPath: string = fileURLToPath(new URL('../../schemas/manifest.schema.json', import.meta.url));

let validator: ValidateFunction | undefined;

/** manifestSchema returns the parsed schema. */
export function manifestSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(manifestSchemaPath, 'utf8')) as Record<string, unknown>;
}

/** toManifestPath turns a JSON pointer (`/services/web/domains/0`) into manifest notation (`services.web.domains[0]`). */
export function toManifestPath(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (/^[0-9]+$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function reasonOf(e: ErrorObject): string {
  switch (e.keyword) {
    case 'type': return `must be ${(e.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`;
    case 'enum': return `must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'required': return `is missing the required key "${(e.params as { missingProperty: string }).missingProperty}"`;
    case 'const': return `must be ${JSON.stringify((e.params as { allowedValue: unknown }).allowedValue)}`;
    default: return e.message ?? e.keyword;
  }
}

/** schemaProblems validates a parsed document against the schema and returns its problems (empty when valid). */
export function schemaProblems(doc: unknown): Problem[] {
  validator ??= new Ajv2020({ allErrors: true, strict: false }).compile(manifestSchema());
  if (validator(doc)) return [];
  const errors = validator.errors ?? [];
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const out: Problem[] = [];
  const seen = new Set<string>();
  const push = (p: Problem): void => {
    const k = `${p.path}\0${p.reason}`;
    if (!seen.has(k)) {
      seen.add(k);
      out.push(p);
    }
  };
  for (const e of errors) {
    const path = toManifestPath(e.instancePath);
    if (e.keyword === 'additionalProperties') {
      push({ path: join(path, (e.params as { additionalProperty: string }).additionalProperty), reason: 'unknown key' });
    } else if (e.keyword === 'oneOf') {
      const inner = errors.some((x) => x.keyword === 'additionalProperties' && x.instancePath === e.instancePath);
      if (!inner) push({ path, reason: 'must be text, a whole number, true/false or { secret: true }' });
    } else if (e.schemaPath.includes('/oneOf/') && oneOfPaths.has(e.instancePath)) {
      continue;
    } else {
      push({ path, reason: reasonOf(e) });
    }
  }
  return out;
}
