import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { configReference } from '../server/src/platform/config.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

test('the Quick start holds exactly two commands in one sh block, the second being what .ci/run runs', () => {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quick start'));
  assert.ok(section, 'README has a "## Quick start" section');
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)];
  assert.equal(blocks.length, 1, 'one sh block');
  const commands = blocks[0]![1]!.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(commands.length, 2, 'two commands');
  const ci = readFileSync(new URL('../.ci/run', import.meta.url), 'utf8');
  const ciCommands = ci.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#') && !/^(set|cd) /.test(l));
  assert.deepEqual(ciCommands, [commands[1]], '.ci/run runs the second command and nothing else');
});

test('every configuration variable is documented in the README', () => {
  const sut = configReference;
  for (const e of sut) assert.ok(readme.includes(`| \`${e.name}\` |`), `${e.name} is in the configuration table`);
});
