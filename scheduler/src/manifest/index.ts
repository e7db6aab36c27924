/**
 * The project manifest (`drover.yaml` / `drover.json`, manifest.md): parse YAML or JSON, validate against the
 * published schema (`scheduler/schemas/manifest.schema.json`) and the semantic rules, and build the compiler's
 * desired state. Problems carry manifest paths such as `services.web.domains[0]`.
 */
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { DesiredState } from '../compiler/model.ts';
import type { Manifest, Problem } from './types.ts';
import { checkManifest } from './validate.ts';
import type { PlanOptions } from './to-state.ts';

export type { Manifest, ManifestService, ManifestDatabase, Problem } from './types.ts';
export { checkManifest, validateManifest } from './validate.ts';
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
  // yaml's own uniqueKeys check is quadratic in the size of a map (10,000 services); keys are checked below instead.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true, version: '1.2' });
  if (doc.errors.length > 0) return { problems: doc.errors.map((e) => ({ path: '', reason: `is not valid YAML: ${e.message.split('\n')[0]}` })) };
  const keyProblems = checkKeys(doc.contents, '');
  if (keyProblems.length > 0) return { problems: keyProblems };
  return { doc: doc.toJS({ maxAliasCount: 100 }) as unknown, problems: [] };
}

/** checkKeys walks YAML nodes: every map key is a plain scalar and appears once. */
function checkKeys(node: unknown, path: string): Problem[] {
  const out: Problem[] = [];
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) {
        out.push({ path, reason: 'is not valid YAML: map keys must be plain text' });
        continue;
      }
      const k = String(pair.key.value);
      const at = path === '' ? k : `${path}.${k}`;
      if (seen.has(k)) out.push({ path: at, reason: 'is not valid YAML: the key appears twice' });
      seen.add(k);
      out.push(...checkKeys(pair.value, at));
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => out.push(...checkKeys(item, `${path}[${i}]`)));
  }
  return out;
}

/** LoadedManifest is a valid manifest with its desired state, or the problems that make it invalid. */
export type LoadedManifest = { ok: true; manifest: Manifest; state: DesiredState } | { ok: false; problems: Problem[] };

/**
 * loadManifest parses, validates and converts a manifest's text. The compiler's own checks run when the state is
 * compiled (compile throws CompileError with a manifest path), so a manifest is compiled once, not twice.
 */
export function loadManifest(text: string, fileName = 'drover.yaml', opts: PlanOptions = {}): LoadedManifest {
  const parsed = parseManifestText(text, fileName);
  if (parsed.problems.length > 0) return { ok: false, problems: parsed.problems };
  const { problems, state } = checkManifest(parsed.doc, opts);
  if (!state) return { ok: false, problems };
  return { ok: true, manifest: parsed.doc as Manifest, state };
}
