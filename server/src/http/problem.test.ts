import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DomainError } from '../core/errors.ts';
import { isDatabaseOutage, toProblem } from './problem.ts';

test('a Postgres outage is a 503 database/unavailable, never a 500 or a not-found', () => {
  const sut = toProblem;
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const wrapped = Object.assign(new Error('Connection terminated unexpectedly'), { driverError: new Error('Connection terminated unexpectedly') });
  const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  const linkFailure = Object.assign(new Error('query failed'), { driverError: Object.assign(new Error('x'), { code: '08006' }) });
  for (const e of [refused, wrapped, shutdown, linkFailure]) {
    const p = sut(e, '/api/teams', 'req-1');
    assert.equal(p.status, 503, e.message);
    assert.equal(p.code, 'database/unavailable');
    assert.equal(p.detail, 'The database is unavailable', 'no internal message leaks');
  }
});

test('a failed query that is not an outage stays a 500 without its message', () => {
  const syntax = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
  assert.equal(isDatabaseOutage(syntax), false);
  const p = toProblem(syntax, '/api/x', 'req-2');
  assert.equal(p.status, 500);
  assert.ok(!JSON.stringify(p).includes('SELEC'));
});

test('domain errors keep their code, status and 4xx detail', () => {
  const p = toProblem(new DomainError('project/not_found', 'No project abc'), '/api/projects/abc', 'req-3');
  assert.deepEqual([p.status, p.code, p.detail], [404, 'project/not_found', 'No project abc']);
});
