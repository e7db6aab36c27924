import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { accessLogger, createLogger, REDACTED, SECRET_FIELDS } from './logger.ts';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString()); cb(); } });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('createLogger', () => {
  test('writes JSON lines with level, time and message', () => {
    const out = capture();
    const sut = createLogger('info', out.stream);
    sut.info({ requestId: 'r1' }, 'hello');
    sut.debug('not at info');
    const [line, ...rest] = out.lines();
    assert.deepEqual(rest, []);
    assert.equal(line?.level, 'info');
    assert.equal(line?.msg, 'hello');
    assert.equal(line?.requestId, 'r1');
    assert.match(String(line?.time), /^\d{4}-\d\d-\d\dT/);
  });

  test('redacts every secret field at any depth, in any case, in arrays and in child bindings', () => {
    const out = capture();
    const sut = createLogger('info', out.stream);
    const secret = 's3cr3t-VALUE-🙈';
    for (const f of SECRET_FIELDS) {
      sut.info({ [f]: secret, a: { [f]: secret, b: { [f]: secret, c: { [f]: secret } } } }, `field ${f}`);
    }
    sut.info({ req: { headers: { authorization: `Bearer ${secret}`, cookie: `drover_session=${secret}`, 'set-cookie': secret } } }, 'headers');
    sut.info({ variable: { key: 'DATABASE_PASSWORD', value: secret } }, 'variable');
    sut.info({ a: { b: { c: { d: { e: { PASSWORD: secret, Token: secret } } } } } }, 'deep and any case');
    sut.info({ variables: [{ key: 'K', value: secret }, { key: 'L', value: secret }] }, 'arrays');
    sut.child({ token: secret }).info('child bindings');
    sut.child({ requestId: 'r' }).child({ nested: { password: secret } }).info('grandchild bindings');
    const text = out.lines().map((l) => JSON.stringify(l)).join('\n');
    assert.ok(!text.includes(secret), 'no secret value in any log line');
    assert.ok(text.includes(REDACTED));
    assert.ok(text.includes('DATABASE_PASSWORD'), 'names stay visible');
    assert.ok(out.lines().some((l) => JSON.stringify(l.variables) === '[{"key":"K","value":"[redacted]"},{"key":"L","value":"[redacted]"}]'));
  });

  test('does not change the object it was given', () => {
    const out = capture();
    const input = { user: { email: 'a@example.com', password: 'pw' } };
    createLogger('info', out.stream).info(input, 'x');
    assert.equal(input.user.password, 'pw');
    assert.deepEqual(out.lines()[0]?.user, { email: 'a@example.com', password: REDACTED });
  });
});

describe('accessLogger', () => {
  test('logs requests at info, probes at debug, and 5xx errors with the request id', () => {
    const out = capture();
    const sut = accessLogger(createLogger('info', out.stream));
    sut.request({ requestId: 'r1', method: 'GET', path: '/api/projects', status: 200, ms: 1.2, ip: '127.0.0.1' });
    sut.request({ requestId: 'r2', method: 'GET', path: '/healthz', status: 200, ms: 0.1, ip: '127.0.0.1' });
    sut.error(new Error('boom'), 'r3', 500);
    const lines = out.lines();
    assert.deepEqual(lines.map((l) => l.requestId), ['r1', 'r3']);
    assert.equal((lines[1]?.err as { message?: string }).message, 'boom');
  });
});
