/**
 * The project manifest (`drover.yaml` / `drover.json`, manifest.md): parse YAML or JSON, validate against the
 * published schema (`scheduler/schemas/manifest.schema.json`) and the semantic rules, and build the compiler's
 * desired state. Problems carry manifest paths such as `services.web.domains[0]`.
 */
import { parseDocument } from 'yaml';
import type { DesiredState } from '../compiler/model.ts';
import type { Manifest, Problem } from './types.ts';
import { validateManifest } from './validate.ts';
import { manifestToState, type PlanOptions } from './to-state.ts';

export type { Manifest, ManifestService, ManifestDatabase, Problem } from './types.ts';
export { validateManifest } from './validate.ts';
export { manifestToState, planId, planSettings, type PlanOptions } from './to-state.ts';
export { manifestSchema, manifestSchemaPath } from './schema.ts';

/** MAX_MANIFEST_BYTES is the largest manifest accepted (a manifest of 10,000 services fits). */
export const MAX_MANIFEST_BYTES = 32 * 1024 * 1024;

/** parseManifestText parses YAML (a superset of JSON) or, for `.json` names, strict JSON; syntax errors are problems. */
export function parseManifestText(text: string, fileName = 'drover.yaml'): { doc?: unknown; problems: Problem[] } {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) return { problems: [{ path: '', reason: `is larger than ${MAX_MANIFEST_BYTES} bytes` }] };
  if (fileName.endsWith('.json')) {
    try {
      return { doc: JSON.parse(text) as unknown, problems: [] };
    } catch (e) {
      return { problems: [{ path: '', reason: `is not valid JSON: ${(e as Error).message}` }] };
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true, version: '1.2' });
  if (doc.errors.length > 0) return { problems: doc.errors.map((e) => ({ path: '', reason: `is not valid YAML: ${e.message.split('\n')[0]}` })) };
  return { doc: doc.toJS({ maxAliasCount: 100 }) as unknown, problems: [] };
}

/** LoadedManifest is a valid manifest with its desired state, or the problems that make it invalid. */
export type LoadedManifest = { ok: true; manifest: Manifest; state: DesiredState } | { ok: false; problems: Problem[] };

/** loadManifest parses, validates and converts a manifest's text. */
export function loadManifest(text: string, fileName = 'drover.yaml', opts: PlanOptions = {}): LoadedManifest {
  const parsed = parseManifestText(text, fileName);
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
  const problems = validateManifest(parsed.doc, opts);
  if (problems.length > 0) return { ok: false, problems };
  const manifest = parsed.doc as Manifest;
  return { ok: true, manifest, state: manifestToState(manifest, opts) };
}
