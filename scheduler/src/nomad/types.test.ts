import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateNomadTypes } from './gen-types.ts';

test('types.ts is what gen-types.ts derives from the contract (regenerate it when the schema changes)', () => {
  const sut = generateNomadTypes();
  assert.equal(readFileSync(new URL('./types.ts', import.meta.url), 'utf8'), sut);
});
