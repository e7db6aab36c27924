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

test('databaseOutcome reads the messages of older events (no data) per database', () => {
  const notes = [{
    message: 'database shop-production-maindb-13a1a9a4 registered on volume dv-shop-production-maindb-13a1a9a4-data-1b2a71a8 (node n1); '
      + 'database cache unchanged: still running deployment 4115… (nothing registered); '
      + 'removed database shop-production-old-77aa01bc deregistered (its volume is kept)',
    data: null,
  }];
  const db = (name: string): { id: string; name: string } => ({ id: `id-${name}`, name });
  assert.equal(databaseOutcome(notes, db('maindb')).status, 'deployed');
  assert.match(databaseOutcome(notes, db('maindb')).note, /^database shop-production-maindb-13a1a9a4 registered/);
  assert.deepEqual(databaseOutcome(notes, db('cache')), { status: 'unchanged', note: 'database cache unchanged: still running deployment 4115… (nothing registered)' });
  assert.equal(databaseOutcome(notes, db('old')).status, 'removed');
  assert.deepEqual(databaseOutcome(notes, db('other')), { status: 'pending', note: '' });
  // A database whose name is a prefix of another's is not mistaken for it.
  assert.equal(databaseOutcome(notes, db('main')).status, 'pending');
  // In a batch of two services, the first registers a changed database and the second finds it unchanged: deployed.
  const batch = [{ message: 'database shop-production-maindb-13a1a9a4 registered on volume v (node n1)' }, { message: 'database maindb unchanged: still running deployment x (nothing registered)' }];
  assert.equal(databaseOutcome(batch, db('maindb')).status, 'deployed');
  assert.equal(databaseOutcome(batch.slice(1), db('maindb')).status, 'unchanged');
});

test('databaseOutcome prefers the data of an event, matched by database ID, over its message', () => {
  const main = { id: '5d7c1f0e-0000-4000-8000-000000000001', name: 'maindb' };
  const cache = { id: '5d7c1f0e-0000-4000-8000-000000000002', name: 'cache' };
  const old = { id: '5d7c1f0e-0000-4000-8000-000000000003', name: 'old' };
  const event = {
    // A message that says the opposite of the data: only the data counts.
    message: 'database maindb unchanged: still running deployment z (nothing registered); database shop-production-cache-1 registered on volume w (node n1)',
    data: { databases: [
      { databaseId: main.id, name: 'maindb', outcome: 'registered' as const, jobId: 'shop-production-maindb-13a1a9a4', volume: 'dv-main' },
      { databaseId: cache.id, name: 'cache', outcome: 'unchanged' as const, jobId: 'shop-production-cache-1', volume: 'dv-cache', runningDeploymentId: 'dep-1' },
      { databaseId: old.id, name: 'old', outcome: 'removed' as const, jobId: 'shop-production-old-77aa01bc' },
    ] },
  };
  assert.deepEqual(databaseOutcome([event], main), { status: 'deployed', note: 'database shop-production-maindb-13a1a9a4 registered on volume dv-main' });
  assert.deepEqual(databaseOutcome([event], cache), { status: 'unchanged', note: 'database cache unchanged: still running deployment dep-1 (nothing registered)' });
  assert.deepEqual(databaseOutcome([event], old), { status: 'removed', note: 'removed database shop-production-old-77aa01bc deregistered (its volume is kept)' });
  // Matched by ID, not name: another database with the same name (another environment) is not this one.
  assert.equal(databaseOutcome([event], { id: 'other-id', name: 'maindb' }).status, 'pending');
  // Unchanged without a known running deployment.
  const unknown = { message: '', data: { databases: [{ databaseId: cache.id, name: 'cache', outcome: 'unchanged' as const, jobId: 'j' }] } };
  assert.match(databaseOutcome([unknown], cache).note, /still running deployment \(unknown\)/);
  // A registration by any deployment of the batch wins over unchanged in another, old records and new alike.
  const later = { message: '', data: { databases: [{ databaseId: main.id, name: 'maindb', outcome: 'unchanged' as const, jobId: 'j', runningDeploymentId: 'd' }] } };
  assert.equal(databaseOutcome([later, event], main).status, 'deployed');
  assert.equal(databaseOutcome([later, { message: 'database shop-production-maindb-13a1a9a4 registered on volume v (node n1)', data: null }], main).status, 'deployed');
  assert.equal(databaseOutcome([later], main).status, 'unchanged');
});
