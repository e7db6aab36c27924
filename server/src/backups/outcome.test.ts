import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpTaskState, judgeBackup as sut, judgeVerification } from './outcome.ts';
import type { BackupEvidence } from './outcome.ts';

const digest = { size: 1234, sha256: 'a'.repeat(64) };
const anEvidence = (o: Partial<BackupEvidence> = {}): BackupEvidence => ({ dump: { state: 'dead', failed: false, exitCode: 0 }, file: digest, object: { ...digest }, ...o });

test('succeeded only with a dump that exited 0 and an object of the dump file’s size and SHA-256', () => {
  assert.equal(sut(anEvidence()).status, 'succeeded');
  const cases: [Partial<BackupEvidence>, RegExp][] = [
    [{ dump: null }, /did not run/],
    [{ dump: { state: 'running', failed: false, exitCode: null } }, /running/],
    [{ dump: { state: 'dead', failed: true, exitCode: null } }, /never exited/],
    [{ dump: { state: 'dead', failed: true, exitCode: 2 } }, /exited with code 2/],
    [{ file: null }, /dump file is missing/],
    [{ file: { size: 0, sha256: 'e3b0'.padEnd(64, '0') }, object: { size: 0, sha256: 'e3b0'.padEnd(64, '0') } }, /empty/],
    [{ object: null, objectError: 'object not found' }, /read back: object not found/],
    [{ object: { size: 1000, sha256: digest.sha256 } }, /1000 bytes/],
    [{ object: { size: 1234, sha256: 'b'.repeat(64) } }, /SHA-256/],
  ];
  for (const [o, reason] of cases) {
    const v = sut(anEvidence(o));
    assert.equal(v.status, 'failed', String(reason));
    assert.match(v.reason ?? '', reason);
  }
});

test('dumpTaskState reads the last Terminated event of the task itself', () => {
  assert.equal(dumpTaskState(undefined), null);
  assert.deepEqual(dumpTaskState({ State: 'dead', Failed: true, Events: [{ Type: 'Started' }, { Type: 'Terminated', ExitCode: 0 }, { Type: 'Restarting' }, { Type: 'Terminated', ExitCode: 137 }] }), { state: 'dead', failed: true, exitCode: 137 });
  assert.deepEqual(dumpTaskState({ State: 'dead', Events: [{ Type: 'Killed' }] }), { state: 'dead', failed: false, exitCode: null });
});

test('a verification succeeds only when the check exited 0 with counts it understands', () => {
  const parse = (o: string): Record<string, number> => Object.fromEntries(o.trim().split('\n').filter(Boolean).map((l) => { const [k, v] = l.split('|'); if (v === undefined) throw new Error('bad line'); return [k!, Number(v)]; }));
  assert.deepEqual(judgeVerification({ state: 'dead', failed: false, exitCode: 0 }, 'a|1\nb|2\n', parse), { status: 'succeeded', reason: null, counts: { a: 1, b: 2 } });
  assert.match(judgeVerification({ state: 'dead', failed: true, exitCode: 1 }, '', parse).reason ?? '', /code 1/);
  assert.match(judgeVerification({ state: 'dead', failed: false, exitCode: 0 }, 'garbage', parse).reason ?? '', /not understood/);
  assert.match(judgeVerification({ state: 'dead', failed: false, exitCode: 0 }, '', parse).reason ?? '', /empty/);
  assert.equal(judgeVerification({ state: 'dead', failed: false, exitCode: 0 }, '', parse, true).status, 'succeeded');
  assert.match(judgeVerification(null, '', parse).reason ?? '', /did not run/);
});
