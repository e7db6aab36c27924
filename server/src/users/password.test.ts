import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from './password.ts';
import { emailSchema, normalizeEmail } from './email.ts';

describe('argon2id passwords', () => {
  it('hashes with a fresh salt each time and verifies only the right password', async () => {
    const sut = await hashPassword('correct horse battery');
    const again = await hashPassword('correct horse battery');
    assert.match(sut, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(sut, again);
    assert.equal(await verifyPassword('correct horse battery', sut), true);
    assert.equal(await verifyPassword('correct horse batterY', sut), false);
    assert.equal(await verifyPassword('', sut), false);
  });

  it('keeps verifying hashes made with other costs, and refuses malformed hashes', async () => {
    const cheap = await hashPassword('pw-1234567890', { memoryKiB: 8192, passes: 3, parallelism: 1 });
    assert.equal(await verifyPassword('pw-1234567890', cheap), true);
    for (const bad of ['', 'plain', '$argon2i$v=19$m=8,t=1,p=1$AAAA$AAAA', cheap.slice(0, -4), cheap.replace('argon2id', 'argon2d')]) {
      assert.equal(await verifyPassword('pw-1234567890', bad), false, bad);
    }
  });
});

describe('emails', () => {
  it('normalizes case, whitespace and Unicode form', () => {
    assert.equal(normalizeEmail('  Ann@Example.COM '), 'ann@example.com');
    assert.equal(normalizeEmail('e\u0301@x.io'), '\u00e9@x.io');
    assert.equal(emailSchema.parse(' Bob@X.io'), 'bob@x.io');
    for (const bad of ['no-at', 'a@b', 'a b@c.io', 'a@b@c.io', 'x\u0000@y.io']) assert.equal(emailSchema.safeParse(bad).success, false, bad);
  });
});
