/**
 * The dashboard's pure modules, run by node:test beside the browser tests: the canvas layout (no overlaps, a
 * referenced service left of the services referencing it, cycles survive, 500 nodes), `${{ … }}` reference parsing,
 * the raw `.env` mode's parse/format round trip, and the canvas edges read from listed variables.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDotenv, parseDotenv } from '../src/lib/dotenv.ts';
import { layoutGraph, type GraphEdge } from '../src/lib/graph.ts';
import { parseReferences } from '../src/lib/refs.ts';
import { color256, parseAnsi, segmentCss, stripAnsi } from '../src/lib/ansi.ts';

const box = { width: 180, height: 56, gapX: 80, gapY: 20 };

/** aProject builds n services where service i references up to two services of lower index (a layered graph). */
function aProject(n: number) {
  const nodes = Array.from({ length: n }, (_, i) => ({ id: `s${i}` }));
  const edges: GraphEdge[] = [];
  for (let i = 1; i < n; i++) {
    edges.push({ from: `s${i}`, to: `s${(i * 7) % i}` });
    if (i > 10) edges.push({ from: `s${i}`, to: `s${(i * 13) % (i - 5)}` });
  }
  return { nodes, edges };
}

function overlaps(positions: Map<string, { x: number; y: number }>): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const [id, p] of positions) {
    const k = `${p.x},${p.y}`;
    if (seen.has(k)) out.push(`${seen.get(k)} and ${id} at ${k}`);
    seen.set(k, id);
  }
  return out;
}

test('layoutGraph places 500 referenced services without overlap, each target left of its referrers', () => {
  const { nodes, edges } = aProject(500);
  const sut = layoutGraph(nodes, edges, box);
  assert.equal(sut.positions.size, 500);
  assert.deepEqual(overlaps(sut.positions), []);
  for (const e of edges) {
    const from = sut.positions.get(e.from)!;
    const to = sut.positions.get(e.to)!;
    assert.ok(to.x < from.x, `${e.to} (x=${to.x}) should stand left of ${e.from} (x=${from.x})`);
  }
  for (const p of sut.positions.values()) {
    assert.ok(p.x >= 0 && p.y >= 0 && p.x + box.width <= sut.width && p.y + box.height <= sut.height);
  }
});

test('layoutGraph survives a reference cycle and packs services without references in a grid after the rest', () => {
  const nodes = ['a', 'b', 'c', 'lonely-1', 'lonely-2'].map((id) => ({ id }));
  const edges = [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }, { from: 'a', to: 'missing' }];
  const sut = layoutGraph(nodes, edges, box);
  assert.equal(sut.positions.size, 5);
  assert.deepEqual(overlaps(sut.positions), []);
  const linkedRight = Math.max(...['a', 'b', 'c'].map((id) => sut.positions.get(id)!.x));
  for (const id of ['lonely-1', 'lonely-2']) assert.ok(sut.positions.get(id)!.x > linkedRight);
});

test('layoutGraph of nothing is empty', () => {
  const sut = layoutGraph([], [], box);
  assert.equal(sut.positions.size, 0);
  assert.equal(sut.width, 0);
  assert.equal(sut.height, 0);
});

test('parseReferences finds every well-formed reference and ignores malformed ones', () => {
  const sut = parseReferences('postgres://${{ db.USER }}:${{db.PASSWORD}}@${{ shared.HOST }} ${{ Bad.X }} ${{ api. }} ${{ api.PRIVATE_URL }}');
  assert.deepEqual(sut, [
    { target: 'db', key: 'USER' },
    { target: 'db', key: 'PASSWORD' },
    { target: 'shared', key: 'HOST' },
    { target: 'api', key: 'PRIVATE_URL' },
  ]);
});

test('formatDotenv and parseDotenv round-trip values with spaces, quotes, #, = and newlines', () => {
  const values = { PLAIN: 'abc', SPACED: 'a b', QUOTED: 'say "hi"', HASH: 'p#ss', EQ: 'a=b', NL: 'line1\nline2', BACK: 'C:\\dir', REF: '${{ api.PRIVATE_URL }}', EMPTY: '' };
  const sut = parseDotenv(formatDotenv(values));
  assert.deepEqual(sut.errors, []);
  assert.deepEqual(sut.values, values);
});

test('parseDotenv names the lines it cannot read and accepts comments, export and single quotes', () => {
  const sut = parseDotenv("# comment\nexport A=1\nB='x y'\nnot a pair\n1BAD=2\n\nC = spaced \n");
  assert.deepEqual(sut.values, { A: '1', B: 'x y', C: 'spaced' });
  assert.deepEqual(sut.errors.map((e) => e.line), [4, 5]);
});

test('referencedTargets reads listed references (objects or strings) and reference values, never `shared`', async () => {
  const { referencedTargets } = await import('../src/lib/edges.ts');
  assert.deepEqual(referencedTargets({ key: 'A', references: [{ target: 'api', name: 'PRIVATE_URL' }, 'db.DATABASE_URL', { target: 'shared', name: 'X' }] }), ['api', 'db']);
  assert.deepEqual(referencedTargets({ key: 'B', value: 'http://${{ web.PRIVATE_HOST }}:${{ shared.PORT }}' }), ['web']);
  assert.deepEqual(referencedTargets({ key: 'C' }), []);
});

test('parseAnsi: SGR colours and weights become styled segments; other escapes and control characters are dropped', () => {
  const { segments, end } = parseAnsi('a \x1b[1;31mred\x1b[0m b \x1b[38;5;208mx\x1b[38;2;1;2;3my\x1b]0;title\x07\x1b[2Jz\x00\x1b[39m!');
  assert.deepEqual(segments.map((s) => s.text), ['a ', 'red', ' b ', 'x', 'y', 'z', '!']);
  assert.equal(segments[1]?.fg, '#ff7b72');
  assert.equal(segments[1]?.bold, true);
  assert.equal(segments[2]?.fg, null);
  assert.equal(segments[3]?.fg, color256(208));
  assert.equal(segments[4]?.fg, 'rgb(1,2,3)');
  assert.equal(segments[5]?.fg, 'rgb(1,2,3)', 'a screen clear does not reset the style');
  assert.equal(end.fg, null);
  // A style carries over to the next line until reset; malformed colour parameters give the default.
  assert.equal(parseAnsi('\x1b[32mgo').end.fg, '#3fb950');
  assert.equal(parseAnsi('next', parseAnsi('\x1b[32mgo').end).segments[0]?.fg, '#3fb950');
  assert.equal(parseAnsi('\x1b[38;5;999mq').segments[0]?.fg, null);
  assert.equal(stripAnsi('<b>\x1b[4mhi\x1b[24m</b>'), '<b>hi</b>');
  // The inline style only ever holds colours from the tables or rgb() of bytes, whatever the text says.
  assert.equal(segmentCss({ fg: '#3fb950', bg: null, bold: true, dim: false, italic: false, underline: true }), 'color:#3fb950;font-weight:700;text-decoration:underline');
  assert.equal(color256(232), 'rgb(8,8,8)');
  assert.equal(color256(16), 'rgb(0,0,0)');
  assert.equal(color256(231), 'rgb(255,255,255)');
});
