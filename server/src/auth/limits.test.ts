import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../core/clock.ts';
import { Client, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';
import { DEFAULT_LIMITS, type AuthLimits } from './rate-limit.ts';

const tight: AuthLimits = {
  ...DEFAULT_LIMITS,
  setup: { ip: { limit: 2, windowMs: 60_000 } },
  passwordReset: { ip: { limit: 100, windowMs: 60_000 }, account: { limit: 2, windowMs: 60_000 } },
  tokenCreate: { ip: { limit: 100, windowMs: 60_000 }, account: { limit: 2, windowMs: 60_000 } },
  invitationAccept: { ip: { limit: 2, windowMs: 60_000 } },
};

describe('rate limits and session expiry', () => {
  let sut: TestApp;
  const clock = new ManualClock(new Date());
  let owner: Client | undefined;
  before(async () => {
    sut = await startTestApp({ authLimits: tight, clock });
  });
  after(async () => {
    await sut.close();
  });

  it('setup, password reset, token creation and invitation acceptance answer 429 with Retry-After', async () => {
    ({ client: owner } = await setupOwner(sut));
    const anon = new Client(sut.url);
    const setup = await anon.post('/api/setup', { email: 'x@example.test', name: 'X', password: 'long-enough-pw', teamName: 'X' });
    assert.equal(setup.status, 409);
    const setup2 = await anon.post('/api/setup', { email: 'x@example.test', name: 'X', password: 'long-enough-pw', teamName: 'X' });
    assert.equal(setup2.status, 429);
    assert.ok(Number(setup2.headers.get('retry-after')) >= 1);

    const resets = [];
    for (let i = 0; i < 3; i++) resets.push((await anon.post('/api/auth/password-reset', { email: 'someone@example.test' })).status);
    assert.deepEqual(resets, [202, 202, 429]);

    const tokens = [];
    for (let i = 0; i < 3; i++) tokens.push((await owner.post('/api/tokens', { name: `t${i}`, scopes: ['read'] })).status);
    assert.deepEqual(tokens, [201, 201, 429]);

    const accepts = [];
    for (let i = 0; i < 3; i++) accepts.push((await anon.post('/api/invitations/accept', { token: 'A'.repeat(43) })).status);
    assert.deepEqual(accepts, [400, 400, 429]);
  });

  it('a session stops working when it expires (14 days)', async () => {
    assert.ok(owner);
    assert.equal((await owner.get('/api/auth/session')).status, 200);
    clock.advance(13 * 24 * 3600_000);
    assert.equal((await owner.get('/api/auth/session')).status, 200);
    clock.advance(2 * 24 * 3600_000);
    assert.equal((await owner.get('/api/auth/session')).status, 401);
  });
});
