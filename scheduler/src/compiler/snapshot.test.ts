// Snapshots: the compiler's output for every example manifest of the repository (examples/**/drover.{yaml,json}),
// checked in under __snapshots__/ as reviewed files. Regenerate only deliberately:
//   DROVER_UPDATE_SNAPSHOTS=1 npm run test:node -- scheduler/src/compiler/snapshot.test.ts
// and review the diff before committing it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifest } from '../manifest/index.ts';
import { compile as sut } from './index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const examples = join(here, '..', '..', '..', 'examples');
const update = process.env.DROVER_UPDATE_SNAPSHOTS === '1';
const files = readdirSync(examples, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)drover\.(ya?ml|json)$/.test(f)).sort();

test('there are example manifests: the manifest.md example, cron, volumes and artifact', () => {
  for (const want of ['shop/drover.yaml', 'cron/drover.yaml', 'volumes/drover.yaml', 'artifact/drover.json']) assert.ok(files.includes(want), want);
});

for (const f of files) {
  test(`compiled output of examples/${f} matches its reviewed snapshot`, () => {
    const loaded = loadManifest(readFileSync(join(examples, f), 'utf8'), f);
    assert.ok(loaded.ok, JSON.stringify(!loaded.ok && loaded.problems));
    const actual = `${JSON.stringify(sut(loaded.state), null, 2)}\n`;
    const snap = join(here, '__snapshots__', `${f.replace(/\/drover\.(ya?ml|json)$/, '')}.json`);
    if (update) writeFileSync(snap, actual);
    assert.ok(existsSync(snap), `missing snapshot ${snap}; review the output and write it with DROVER_UPDATE_SNAPSHOTS=1`);
    assert.equal(actual, readFileSync(snap, 'utf8'));
  });
}
