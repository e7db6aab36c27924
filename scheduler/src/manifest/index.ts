/**
 * The project manifest (`drover.yaml` / `drover.json`, manifest.md): parse YAML or JSON, validate against the
 * published schema (`scheduler/schemas/manifest.schema.json`) and the semantic rules, and build the compiler's
 * desired state. Problems carry manifest paths such as `services.web.domains[0]`.
 */
import { FAILSAFE_SCHEMA, load as loadYaml, Type } from 'js-yaml';
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

/**
 * CORE is YAML 1.2's core schema with the scalar rules of the `yaml` package (version 1.2): integers are decimal,
 * `0o` octal or `0x` hexadecimal (js-yaml's own also reads `0b` binary and signed hexadecimal, which are text here),
 * floats are `[-+]?(.d|d[.d])[e±d]`, `.inf` and `.nan`; everything else plain is text. No timestamps, no merge keys.
 */
const CORE = FAILSAFE_SCHEMA.extend({
  implicit: [
    new Type('tag:yaml.org,2002:null', {
      kind: 'scalar',
      resolve: (s: string | null) => s === null || /^(?:~|null|Null|NULL)?$/.test(s),
      construct: () => null,
    }),
    new Type('tag:yaml.org,2002:bool', {
      kind: 'scalar',
      resolve: (s: string | null) => s !== null && /^(?:true|True|TRUE|false|False|FALSE)$/.test(s),
      construct: (s: string) => s === 'true' || s === 'True' || s === 'TRUE',
    }),
    new Type('tag:yaml.org,2002:int', {
      kind: 'scalar',
      resolve: (s: string | null) => s !== null && /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/.test(s),
      construct: (s: string) => (s.startsWith('0o') ? parseInt(s.slice(2), 8) : s.startsWith('0x') ? parseInt(s.slice(2), 16) : Number(s)),
    }),
    new Type('tag:yaml.org,2002:float', {
      kind: 'scalar',
      resolve: (s: string | null) => s !== null && /^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/.test(s),
      construct: (s: string) => (/inf|INF|Inf/.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : /nan|NaN|NAN/.test(s) ? NaN : Number(s)),
    }),
  ],
});

/**
 * ALIAS matches what may be a YAML alias (`*name` after a separator); quoted text and globs can match too, which only
 * sends the manifest down the slower, alias-counting path.
 */
const ALIAS = /(?:^|[\s,[{:?-])\*[^\s,[\]{}]/m;

/**
 * parseManifestText parses YAML (a superset of JSON) or, for `.json` names, strict JSON; syntax errors are problems.
 * YAML is read by js-yaml (CORE: YAML 1.2 scalars as the `yaml` package reads them; duplicate keys refused), which
 * reads a 10,000-service manifest several times faster and in a fraction of the memory of the `yaml` package's
 * document model. The `yaml` package still reads a manifest js-yaml refuses (so a problem names the duplicated key's
 * path and the position of a syntax error exactly as before) and one that may use aliases (its alias count limit
 * stops alias bombs, which js-yaml would expand without limit once the result is walked).
 */
export function parseManifestText(text: string, fileName = 'drover.yaml'): { doc?: unknown; problems: Problem[] } {
  if (Buffer.byteLength(text) > MAX_MANIFEST_BYTES) return { problems: [{ path: '', reason: `is larger than ${MAX_MANIFEST_BYTES} bytes` }] };
  if (fileName.endsWith('.json')) {
    try {
      return { doc: JSON.parse(text) as unknown, problems: [] };
    } catch (e) {
      return { problems: [{ path: '', reason: `is not valid JSON: ${(e as Error).message}` }] };
    }
  }
  if (!ALIAS.test(text)) {
    let doc: unknown;
    let failed: Error | undefined;
    try {
      doc = loadYaml(text, { schema: CORE, filename: fileName });
    } catch (e) {
      failed = e as Error;
    }
    if (!failed && plainKeys(doc)) return { doc: doc ?? null, problems: [] };
    const slow = parseWithDocumentModel(text);
    if (slow.problems.length > 0 || !failed) return slow;
    // Both parsers must agree that a manifest is YAML: js-yaml's refusal stands when the document model accepts it.
    return { problems: [{ path: '', reason: `is not valid YAML: ${failed.message.split('\n')[0]}` }] };
  }
  return parseWithDocumentModel(text);
}

/**
 * plainKeys tells whether js-yaml's result can be trusted as is: js-yaml turns a complex (map or sequence) key into
 * text, so a key that looks like one (`[object Object]`, a comma-joined list) sends the text to the document model,
 * which refuses it by name.
 */
function plainKeys(node: unknown): boolean {
  const stack: unknown[] = [node];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (const x of n) if (x !== null && typeof x === 'object') stack.push(x);
    } else if (n !== null && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k.startsWith('[object ') || k.includes(',')) return false;
        if (v !== null && typeof v === 'object') stack.push(v);
      }
    }
  }
  return true;
}

/** parseWithDocumentModel parses with the `yaml` package's document model, naming duplicate and complex keys by path. */
function parseWithDocumentModel(text: string): { doc?: unknown; problems: Problem[] } {
  // yaml's own uniqueKeys check is quadratic in the size of a map (10,000 services); keys are checked below instead.
  const doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true, version: '1.2' });
  if (doc.errors.length > 0) return { problems: doc.errors.map((e) => ({ path: '', reason: `is not valid YAML: ${e.message.split('\n')[0]}` })) };
  const keyProblems = checkKeys(doc.contents, '');
  if (keyProblems.length > 0) return { problems: keyProblems };
  try {
    return { doc: doc.toJS({ maxAliasCount: 100 }) as unknown, problems: [] };
  } catch (e) {
    // toJS throws when aliases would expand past maxAliasCount (an alias bomb).
    return { problems: [{ path: '', reason: `is not valid YAML: ${(e as Error).message.split('\n')[0]}` }] };
  }
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
