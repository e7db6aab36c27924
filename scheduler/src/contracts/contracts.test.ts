import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNomad } from './index.ts';

test('validateNomad rejects a misspelt key that Nomad would drop silently', () => {
  const sut = validateNomad;
  const ok = sut('JobRegisterRequest', { Job: { ID: 'a', Name: 'a', Type: 'service' } });
  assert.deepEqual(ok, []);
  const bad = sut('JobRegisterRequest', { Job: { ID: 'a', TaskGroups: [{ Name: 'g', Services: [{ Name: 's', Port: 'http' }] }] } });
  assert.ok(bad.some((v) => v.path === '/Job/TaskGroups/0/Services/0/Port' && v.message.includes('unknown key')), JSON.stringify(bad));
});
