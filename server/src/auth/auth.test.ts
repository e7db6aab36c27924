import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client, startTestApp, testPassword, type TestApp } from '../testing/app.ts';
import { DEFAULT_LIMITS } from './rate-limit.ts';
import { sha256Hex } from './secrets.ts';

describe('auth over HTTP', () => {
  let sut: TestApp;
  const issued: string[] = [];
  before(async () => {
    sut = await startTestApp({ authLimits: { ...DEFAULT_LIMITS, login: { ip: { limit: 1000, windowMs: 60_000 }, account: { limit: 4, windowMs: 60_000 } } } });
  });
  after(async () => {
    // No secret issued in this file appears in any log line.
    const logs = sut.logs.join('\n');
    for (const s of issued) assert.equal(logs.includes(s), false, 'a secret reached the log');
    await sut.close();
  });

  it('first-run setup is open, creates the owner with Secure HttpOnly SameSite cookies, then closes', async () => {
    const anon = new Client(sut.url);
    assert.deepEqual((await anon.get('/api/setup')).body, { open: true });
    const password = testPassword();
    issued.push(password);
    const r = await anon.post('/api/setup', { email: ' Boss@Example.TEST ', name: 'Boss', password, teamName: 'Acme Inc', teamSlug: 'acme' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.user.email, 'boss@example.test');
    assert.equal(r.body.team.role, 'owner');
    assert.equal(r.text.includes(password), false);
    const cookies = r.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith('drover_session='));
    const csrf = cookies.find((c) => c.startsWith('drover_csrf='));
    assert.match(session ?? '', /HttpOnly/);
    assert.match(session ?? '', /SameSite=Lax/);
    assert.match(session ?? '', /Secure/);
    assert.doesNotMatch(csrf ?? '', /HttpOnly/);
    issued.push(anon.cookies.get('drover_session') ?? '', r.body.csrfToken);
    // Stored hashed: the cookie value is not in the table, its SHA-256 is.
    const rows: { token_hash: string }[] = await sut.db.dataSource.query('SELECT token_hash FROM sessions');
    assert.deepEqual(rows.map((x) => x.token_hash), [sha256Hex(anon.cookies.get('drover_session') ?? '')]);
    const users: { password_hash: string }[] = await sut.db.dataSource.query('SELECT password_hash FROM users');
    assert.match(users[0]?.password_hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

    assert.deepEqual((await anon.get('/api/setup')).body, { open: false });
    const again = await new Client(sut.url).post('/api/setup', { email: 'x@example.test', name: 'X', password: testPassword(), teamName: 'X' });
    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'auth/setup_closed');
    const me = await anon.get('/api/auth/session');
    assert.equal(me.status, 200);
    assert.equal(me.body.teams[0].slug, 'acme');
    assert.equal(me.body.csrfToken, r.body.csrfToken);
  });

  it('a wrong password and an unknown email get the same 401', async () => {
    const owner = new Client(sut.url);
    const bad = await owner.post('/api/auth/login', { email: 'boss@example.test', password: 'wrong-password!' });
    assert.equal(bad.status, 401);
    assert.equal(bad.body.code, 'auth/invalid_credentials');
    const unknown = await owner.post('/api/auth/login', { email: 'nobody@example.test', password: 'wrong-password!' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body.detail, bad.body.detail);
    assert.equal(owner.cookies.size, 0);
  });

  it('setup racing on a fresh database lets exactly one caller win', async () => {
    const fresh = await startTestApp();
    try {
      const results = await Promise.all(Array.from({ length: 5 }, (_, i) =>
        new Client(fresh.url).post('/api/setup', { email: `racer${i}@example.test`, name: 'R', password: testPassword(), teamName: `T${i}` })));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 409, 409, 409, 409]);
      const n: { n: number }[] = await fresh.db.dataSource.query('SELECT count(*)::int AS n FROM users');
      assert.equal(n[0]?.n, 1);
    } finally {
      await fresh.close();
    }
  });

  it('CSRF: cookie mutations need X-CSRF-Token; bearer requests do not', async () => {
    const owner = new Client(sut.url);
    const pw = await resetPassword(sut, 'boss@example.test', issued);
    const login = await owner.post('/api/auth/login', { email: 'boss@example.test', password: pw });
    assert.equal(login.status, 200, login.text);
    issued.push(owner.cookies.get('drover_session') ?? '', login.body.csrfToken);
    owner.sendCsrf = false;
    const refused = await owner.post('/api/teams', { name: 'Second' });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'auth/csrf');
    const wrong = await owner.post('/api/teams', { name: 'Second' }, { 'x-csrf-token': 'A'.repeat(43) });
    assert.equal(wrong.body.code, 'auth/csrf');
    owner.sendCsrf = true;
    const ok = await owner.post('/api/teams', { name: 'Second' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(ok.body.slug, 'second');

    const tok = await owner.post('/api/tokens', { name: 'ci', scopes: ['admin'] });
    assert.equal(tok.status, 201, tok.text);
    issued.push(tok.body.token);
    const bearer = new Client(sut.url, tok.body.token);
    const viaToken = await bearer.post('/api/teams', { name: 'Third' });
    assert.equal(viaToken.status, 201, viaToken.text);

    // Rotation: logging in again with the old cookie revokes the old session.
    const oldSecret = owner.cookies.get('drover_session') ?? '';
    const again = await owner.post('/api/auth/login', { email: 'boss@example.test', password: pw });
    assert.equal(again.status, 200);
    const newSecret = owner.cookies.get('drover_session') ?? '';
    issued.push(newSecret, again.body.csrfToken);
    assert.notEqual(newSecret, oldSecret);
    const stale = new Client(sut.url);
    stale.cookies.set('drover_session', oldSecret);
    assert.equal((await stale.get('/api/auth/session')).status, 401);
    assert.equal((await owner.get('/api/auth/session')).status, 200);

    const out = await owner.post('/api/auth/logout');
    assert.equal(out.status, 204);
    const reuse = new Client(sut.url);
    reuse.cookies.set('drover_session', newSecret);
    assert.equal((await reuse.get('/api/auth/session')).status, 401);
  });

  it('API tokens: shown once, listed without secret, scoped, expiring, revocable, last use recorded', async () => {
    const owner = await login(sut, issued);
    const read = await owner.post('/api/tokens', { name: 'reader', scopes: ['read'] });
    assert.equal(read.status, 201);
    assert.match(read.body.token, /^drv_[A-Za-z0-9_-]{43}$/);
    issued.push(read.body.token);
    const list = await owner.get('/api/tokens');
    assert.equal(list.status, 200);
    assert.equal(list.text.includes(read.body.token), false);
    assert.ok(list.body.items.some((t: { id: string }) => t.id === read.body.id));

    const reader = new Client(sut.url, read.body.token);
    const teams = await reader.get('/api/teams');
    assert.equal(teams.status, 200);
    const m = await reader.post('/api/teams', { name: 'Nope' });
    assert.equal(m.status, 403);
    assert.equal(m.body.code, 'auth/insufficient_scope');
    const escalate = await reader.post('/api/tokens', { name: 'more', scopes: ['admin'] });
    assert.equal(escalate.body.code, 'auth/insufficient_scope');
    const used = await owner.get('/api/tokens');
    assert.ok(used.body.items.find((t: { id: string }) => t.id === read.body.id).lastUsedAt);

    const bad = await new Client(sut.url, 'drv_' + 'x'.repeat(43)).get('/api/teams');
    assert.equal(bad.status, 401);
    assert.equal((await new Client(sut.url).get('/api/teams', { authorization: 'Bearer' })).status, 401);
    // A reverse proxy's Basic auth is not ours: the cookie session still counts.
    assert.equal((await owner.get('/api/teams', { authorization: 'Basic dXNlcjpwYXNz' })).status, 200);
    const expired = await owner.post('/api/tokens', { name: 'old', scopes: ['read'], expiresAt: new Date(Date.now() - 1000).toISOString() });
    assert.equal(expired.status, 400);
    assert.equal(expired.body.errors[0].path, 'body.expiresAt');
    const short = await owner.post('/api/tokens', { name: 'short', scopes: ['read'], expiresAt: new Date(Date.now() + 1500).toISOString() });
    issued.push(short.body.token);
    assert.equal((await new Client(sut.url, short.body.token).get('/api/teams')).status, 200);
    await new Promise((r) => setTimeout(r, 1600));
    assert.equal((await new Client(sut.url, short.body.token).get('/api/teams')).status, 401);

    assert.equal((await owner.del(`/api/tokens/${read.body.id}`)).status, 204);
    assert.equal((await reader.get('/api/teams')).status, 401);
    assert.equal((await owner.del(`/api/tokens/${read.body.id}`)).status, 404);
  });

  it('invalid input gets problem+json naming the field', async () => {
    const anon = new Client(sut.url);
    const r = await anon.post('/api/auth/login', { email: 'not-an-email', password: '' });
    assert.equal(r.status, 400);
    assert.match(r.headers.get('content-type') ?? '', /application\/problem\+json/);
    const paths = r.body.errors.map((e: { path: string }) => e.path).sort();
    assert.deepEqual(paths, ['body.email', 'body.password']);
    const owner = await login(sut, issued);
    const t = await owner.post('/api/tokens', { name: 'x', scopes: ['root'] });
    assert.equal(t.body.errors[0].path, 'body.scopes[0]');
    const weak = await anon.post('/api/auth/password-reset/confirm', { token: 'abc', password: 'short' });
    assert.equal(weak.body.errors[0].path, 'body.password');
    const extra = await owner.post('/api/teams', { name: 'ok', owner: 'me' });
    assert.equal(extra.status, 400);
    assert.match(JSON.stringify(extra.body.errors), /body/);
  });

  it('password reset: always 202, link from the public URL despite hostile Host headers, one use, revokes sessions', async () => {
    const anon = new Client(sut.url);
    const before = sut.mailer.sent.length;
    const none = await anon.post('/api/auth/password-reset', { email: 'ghost@example.test' });
    assert.equal(none.status, 202);
    assert.equal(sut.mailer.sent.length, before);
    const hostile = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http', forwarded: 'host=evil.example' };
    const existing = await anon.post('/api/auth/password-reset', { email: 'boss@example.test' }, hostile);
    assert.equal(existing.status, 202);
    assert.deepEqual(existing.body, none.body);
    const mail = sut.mailer.lastTo('boss@example.test');
    assert.ok(mail);
    assert.ok(mail.link.startsWith(`${sut.publicUrl}/`), mail.link);
    assert.equal(mail.text.includes('evil'), false);
    const token = new URL(mail.link).hash.replace('#token=', '');
    issued.push(token);

    const session = await login(sut, issued);
    const password = testPassword();
    issued.push(password);
    const ok = await anon.post('/api/auth/password-reset/confirm', { token, password });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await session.get('/api/auth/session')).status, 401, 'sessions are revoked by a reset');
    const again = await anon.post('/api/auth/password-reset/confirm', { token, password: testPassword() });
    assert.equal(again.status, 400);
    assert.equal(again.body.code, 'auth/token_invalid');
    const li = await new Client(sut.url).post('/api/auth/login', { email: 'boss@example.test', password });
    assert.equal(li.status, 200);
    issued.push(li.body.csrfToken);
    currentPassword = password;
  });

  it('login is rate limited per account with Retry-After', async () => {
    const c = new Client(sut.url);
    const email = 'target@example.test';
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 6; i++) {
      last = await c.post('/api/auth/login', { email, password: 'guess-guess-guess' });
      statuses.push(last.status);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401, 429, 429]);
    assert.equal(last?.body.code, 'auth/rate_limited');
    assert.ok(Number(last?.headers.get('retry-after')) >= 1);
  });

  it('no issued secret appears in any list or get response', async () => {
    const owner = await login(sut, issued);
    for (const path of ['/api/auth/session', '/api/tokens', '/api/teams', '/api/setup']) {
      const r = await owner.get(path);
      for (const s of issued.filter((x) => x.length > 8)) {
        if (path === '/api/auth/session' && s === r.body?.csrfToken) continue;
        assert.equal(r.text.includes(s), false, `${path} leaks a secret`);
      }
    }
  });
});

let currentPassword = '';

async function resetPassword(app: TestApp, email: string, issued: string[]): Promise<string> {
  await new Client(app.url).post('/api/auth/password-reset', { email });
  const token = new URL(app.mailer.lastTo(email)?.link ?? '').hash.replace('#token=', '');
  const password = testPassword();
  issued.push(token, password);
  const r = await new Client(app.url).post('/api/auth/password-reset/confirm', { token, password });
  assert.equal(r.status, 204, r.text);
  currentPassword = password;
  return password;
}

async function login(app: TestApp, issued: string[]): Promise<Client> {
  const c = new Client(app.url);
  const r = await c.post('/api/auth/login', { email: 'boss@example.test', password: currentPassword });
  assert.equal(r.status, 200, r.text);
  issued.push(c.cookies.get('drover_session') ?? '', r.body.csrfToken);
  return c;
}

