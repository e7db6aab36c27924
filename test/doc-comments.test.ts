import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// The house style: a doc comment on every exported name of the server, scheduler and CLI sources, starting with the
// name. This test reads every tracked source file (tests, fixtures and generated declarations excepted).
const EXPORT_RE = /^export\s+(?:default\s+)?(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?(?:const|let|function\*?|class|interface|type)\s+([A-Za-z0-9_$]+)/;

/** undocumentedExports lists `file:line name — why` for each exported name without a doc comment starting with it. */
function undocumentedExports(file: string, text: string): string[] {
  const lines = text.split('\n');
  const out: string[] = [];
  lines.forEach((line, i) => {
    const m = EXPORT_RE.exec(line);
    if (!m) return;
    const name = m[1]!;
    let j = i - 1;
    while (j >= 0 && (lines[j]!.trim() === '' || /^\/\/ eslint-disable/.test(lines[j]!.trim()))) j--;
    if (j < 0 || !lines[j]!.trim().endsWith('*/')) {
      out.push(`${file}:${i + 1} ${name} — no doc comment`);
      return;
    }
    let k = j;
    while (k >= 0 && !lines[k]!.includes('/**')) k--;
    const words = lines.slice(Math.max(k, 0), j + 1).map((l) => l.trim().replace(/^\/\*\*|\*\/$|^\*/g, '').trim()).join(' ').trim().split(/\s+/);
    if (!(words[0] ?? '').replace(/`/g, '').startsWith(name)) out.push(`${file}:${i + 1} ${name} — the comment starts with "${words.slice(0, 3).join(' ')}"`);
  });
  return out;
}

test('every exported name of server, scheduler and cli has a doc comment starting with the name', () => {
  const files = execFileSync('git', ['ls-files', 'server/src', 'scheduler/src', 'cli/src'], { encoding: 'utf8' })
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts') && !f.includes('/testdata/'));
  assert.ok(files.length > 100, 'the sources were found');
  const sut = undocumentedExports;
  const problems = files.flatMap((f) => sut(f, readFileSync(f, 'utf8')));
  assert.deepEqual(problems, []);
});

test('the check itself finds a missing or misnamed doc comment', () => {
  const sut = undocumentedExports;
  assert.deepEqual(sut('a.ts', 'export const x = 1;'), ['a.ts:1 x — no doc comment']);
  assert.equal(sut('b.ts', '/** y is one. */\nexport function z() {}').length, 1);
  assert.deepEqual(sut('c.ts', '/** `w` is fine. */\nexport type w = 1;'), []);
});
