/**
 * References inside variable values: `${{ <target>.<NAME> }}`. Everything else in a value is literal data (a single
 * `${…}` or `{{ … }}` included). A `${{` that does not open a well-formed reference is an error.
 */
import type { ValuePart } from '../compiler/model.ts';

const REF = /\$\{\{\s*([a-z0-9]+(?:-[a-z0-9]+)*)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/y;

/** parseValue splits a value into literal and reference parts, or returns a reason for a malformed reference. */
export function parseValue(text: string): ValuePart[] | string {
  const parts: ValuePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const at = text.indexOf('${{', i);
    if (at === -1) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, at);
    REF.lastIndex = at;
    const m = REF.exec(text);
    if (!m) return `malformed reference at character ${at + 1}: write \${{ service.NAME }} or \${{ shared.NAME }}`;
    if (literal !== '') parts.push({ kind: 'literal', text: literal });
    literal = '';
    parts.push({ kind: 'ref', target: m[1] ?? '', name: m[2] ?? '' });
    i = REF.lastIndex;
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal });
  return parts;
}
