import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Actor } from '../core/actor.ts';
import { ManualClock } from '../core/clock.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { PostgresAuditRecorder } from './recorder.ts';

const actor: Actor = { kind: 'token', userId: randomUUID(), tokenId: randomUUID(), scopes: ['admin'], ip: '203.0.113.7', requestId: 'req-12345678' };

describe('PostgresAuditRecorder', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    await db.cleanup();
  });

  it('records actor, team, action, target, details, source IP, request id and time', async () => {
    const clock = new ManualClock(new Date('2026-03-01T10:00:00Z'));
    const sut = new PostgresAuditRecorder(db.dataSource, clock);
    const teamId = randomUUID();
    await sut.record({ actor, teamId, action: 'project.create', targetType: 'project', targetId: 'p1', details: { slug: 'web' } });
    const rows = await db.dataSource.query('SELECT * FROM audit_entries WHERE team_id = $1', [teamId]);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      { ...rows[0], id: undefined },
      {
        id: undefined, team_id: teamId, actor_user_id: actor.userId, actor_kind: 'token', actor_token_id: actor.tokenId, action: 'project.create',
        target_type: 'project', target_id: 'p1', details: { slug: 'web' }, ip: '203.0.113.7', request_id: 'req-12345678',
        created_at: new Date('2026-03-01T10:00:00Z'),
      },
    );
  });

  it('joins the caller’s transaction: a rolled-back change leaves no entry', async () => {
    const sut = new PostgresAuditRecorder(db.dataSource, new ManualClock());
    const teamId = randomUUID();
    await assert.rejects(db.dataSource.transaction(async (m) => {
      await sut.record({ actor: null, teamId, action: 'team.update', targetType: 'team', targetId: teamId }, m);
      throw new Error('the change failed');
    }), /the change failed/);
    assert.equal((await db.dataSource.query('SELECT 1 FROM audit_entries WHERE team_id = $1', [teamId])).length, 0);
    await db.dataSource.transaction(async (m) => {
      await sut.record({ actor: null, teamId, action: 'team.update', targetType: 'team', targetId: teamId }, m);
    });
    const rows = await db.dataSource.query('SELECT actor_kind, ip FROM audit_entries WHERE team_id = $1', [teamId]);
    assert.deepEqual(rows, [{ actor_kind: 'system', ip: null }]);
  });
});
