/**
 * The database page's handling of backup verdicts from the team event stream (src/lib/backup-events.ts), run by
 * node:test: a `backup.failed` of this database becomes a failure notice with the server's reason, other databases'
 * events and other event types are ignored, and every verdict event name is one the server publishes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WEBHOOK_EVENTS } from '../../server/src/webhooks/service.ts';
import { BACKUP_EVENTS, backupNotice as sut } from '../src/lib/backup-events.ts';

const DB = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';

/** anEvent is the JSON data of a team-stream verdict about database DB. */
function anEvent(over: Record<string, unknown> = {}) {
  return { type: 'backup.failed', teamId: 't', serviceId: DB, databaseId: DB, backupId: 'b1', reason: 'backup b1 failed: the dump task exited with code 1', at: '2026-11-22T05:00:00.000Z', ...over };
}

test('a backup.failed of this database is a failure notice carrying the reason', () => {
  assert.deepEqual(sut('backup.failed', anEvent(), DB), {
    key: 'backup.failed:b1:2026-11-22T05:00:00.000Z', tone: 'bad', text: 'Backup failed: backup b1 failed: the dump task exited with code 1',
  });
});

test('restore and verification verdicts are named, successes are ok notices', () => {
  assert.equal(sut('verification.failed', anEvent({ type: 'verification.failed', checkId: 'c1', reason: 'counts differ' }), DB)?.text, 'Restore verification failed: counts differ');
  assert.equal(sut('restore.succeeded', anEvent({ type: 'restore.succeeded', checkId: 'c2', reason: null }), DB)?.tone, 'ok');
  assert.equal(sut('backup.failed', anEvent({ reason: null }), DB)?.text, 'Backup failed: no reason given');
});

test('events of another database, other event types and malformed data give no notice', () => {
  assert.equal(sut('backup.failed', anEvent({ serviceId: 'other', databaseId: 'other' }), DB), null);
  assert.equal(sut('deployment.failed', anEvent({ type: 'deployment.failed' }), DB), null);
  assert.equal(sut('backup.failed', 'not json', DB), null);
  assert.equal(sut('backup.failed', null, DB), null);
});

test('the same verdict twice has the same key (the page shows it once)', () => {
  assert.equal(sut('backup.failed', anEvent(), DB)?.key, sut('backup.failed', anEvent(), DB)?.key);
});

test('the page listens to exactly the verdict events the server publishes to webhooks', () => {
  const server = WEBHOOK_EVENTS.filter((e) => /^(backup|restore|verification)\./.test(e));
  assert.deepEqual([...BACKUP_EVENTS].sort(), [...server].sort());
});
