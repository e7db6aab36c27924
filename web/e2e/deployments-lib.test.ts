/**
 * The dashboard's reading of deployment outcomes (src/lib/deployments.ts), run by node:test beside the browser tests:
 * a healthy deployment whose reason starts with `unchanged:` shows as "unchanged", every other state as itself; and
 * what a service deployment's `databases` notes (the engine's wording) say about each database of the environment.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { databaseOutcome, inFlight, isUnchanged, outcome } from '../src/lib/deployments.ts';

const unchangedReason = 'unchanged: database cache still runs deployment 0b8c…; nothing was registered, its allocation keeps running';

test('outcome: unchanged only for a healthy deployment whose reason says so', () => {
  assert.deepEqual(outcome({ state: 'healthy', reason: unchangedReason }), { label: 'unchanged', tone: 'ok' });
  assert.deepEqual(outcome({ state: 'healthy', reason: 'healthy: Deployment completed successfully' }), { label: 'healthy', tone: 'ok' });
  assert.deepEqual(outcome({ state: 'failed', reason: unchangedReason }), { label: 'failed', tone: 'bad' });
  assert.deepEqual(outcome({ state: 'deploying', reason: '' }), { label: 'deploying', tone: 'warn' });
  assert.equal(isUnchanged({ state: 'healthy', reason: 'database unchanged' }), false, 'only the prefix counts');
  assert.equal(inFlight({ state: 'queued' }), true);
  assert.equal(inFlight({ state: 'superseded' }), false);
});

test('databaseOutcome reads the engine notes per database', () => {
  const notes = [
    'database shop-production-maindb-13a1a9a4 registered on volume dv-shop-production-maindb-13a1a9a4-data-1b2a71a8 (node n1); '
      + 'database cache unchanged: still running deployment 4115… (nothing registered); '
      + 'removed database shop-production-old-77aa01bc deregistered (its volume is kept)',
  ];
  assert.equal(databaseOutcome(notes, { name: 'maindb' }).status, 'deployed');
  assert.match(databaseOutcome(notes, { name: 'maindb' }).note, /^database shop-production-maindb-13a1a9a4 registered/);
  assert.deepEqual(databaseOutcome(notes, { name: 'cache' }), { status: 'unchanged', note: 'database cache unchanged: still running deployment 4115… (nothing registered)' });
  assert.equal(databaseOutcome(notes, { name: 'old' }).status, 'removed');
  assert.deepEqual(databaseOutcome(notes, { name: 'other' }), { status: 'pending', note: '' });
  // A database whose name is a prefix of another's is not mistaken for it.
  assert.equal(databaseOutcome(notes, { name: 'main' }).status, 'pending');
  // In a batch of two services, the first registers a changed database and the second finds it unchanged: deployed.
  const batch = ['database shop-production-maindb-13a1a9a4 registered on volume v (node n1)', 'database maindb unchanged: still running deployment x (nothing registered)'];
  assert.equal(databaseOutcome(batch, { name: 'maindb' }).status, 'deployed');
  assert.equal(databaseOutcome(batch.slice(1), { name: 'maindb' }).status, 'unchanged');
});
