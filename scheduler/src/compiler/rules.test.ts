import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextCronTime, parseCron, validTimeZone } from '../nomad-validate/index.ts';
import * as sut from './rules.ts';

test('hostnames: lower-case LDH labels, punycode, ≤ 253; each kind of refusal says why', () => {
  for (const ok of ['a--b.example.com', 'shop.example.com', 'xn--bcher-kva.example', 'a-b.c1.io', `${'a'.repeat(63)}.com`]) assert.equal(sut.hostnameProblem(ok), undefined, ok);
  const bad: [string, RegExp][] = [
    ['a`b.com', /backtick/], ['a"b.com', /quote/], ["a'b.com", /quote/], ['a(b).com', /parenthesis/], ['a.com||b.com', /\|\|/],
    ['*.example.com', /wildcard/], ['Shop.com', /lower case/], ['a b.com', /spaces/], ['bücher.de', /punycode/], ['localhost', /two labels/],
    ['-a.com', /label/], ['ab--c.com', /punycode/], [`${'a'.repeat(64)}.com`, /label/], [`${'a.'.repeat(127)}com`, /253/],
    ['1.2.3.4', /IP address/], ['a.com.', /dot/], ['', /empty/],
  ];
  for (const [h, r] of bad) assert.match(sut.hostnameProblem(h) ?? '', r, h);
});

test('argv: ${PORT} and ${NOMAD_*} only; escapes that would be ambiguous are refused; %{ is escaped', () => {
  for (const ok of ['${PORT}', ':${PORT}', '${NOMAD_ALLOC_ID}/x', "-w '%{http_code}'", '$HOME', '{{ x }}', '$ {x}']) assert.equal(sut.argProblem(ok), undefined, ok);
  for (const bad of ['${HOME}', '${attr.unique.hostname}', '${PORT', '$${PORT}', '%%{x}', 'a\0b', '${ PORT }']) assert.notEqual(sut.argProblem(bad), undefined, bad);
  assert.equal(sut.escapeHclTemplate("curl -w '%{http_code}' %{a}"), "curl -w '%%{http_code}' %%{a}");
});

test('artifact URLs: http(s) to public names only', () => {
  assert.equal(sut.artifactUrlProblem('https://releases.example.com/a.tgz'), undefined);
  for (const bad of ['ftp://x.com/a', 'https://u:p@x.com/a', 'http://169.254.169.254/', 'http://[fe80::1]/', 'http://10.0.0.1/',
    'http://192.168.1.1/', 'http://172.16.0.1/', 'http://100.64.0.1/', 'http://0.0.0.0/', 'http://2130706433/', 'http://0x7f.1/',
    'http://[::ffff:127.0.0.1]/', 'http://[fd00::1]/', 'http://consul/', 'http://vault.service.consul/', 'http://x.internal/',
    'https://x.com/a?checksum=md5:00', 'https://x.com/a?archive=false', 'https://x.com/${NOMAD_TOKEN}', 'https://x.com/a//sub', 'https://x.com/a b']) {
    assert.notEqual(sut.artifactUrlProblem(bad), undefined, bad);
  }
});

test('mounts: absolute, no traversal, not over Nomad task directories', () => {
  for (const ok of ['/data', '/var/lib/app', '/a.b/c_d']) assert.equal(sut.mountProblem(ok), undefined, ok);
  for (const bad of ['data', '/', '/data/../etc', '/./x', '/a//b', '/alloc', '/secrets/x', '/local', '/proc/1', '/a b', '/a$x']) assert.notEqual(sut.mountProblem(bad), undefined, bad);
});

test('cron: five fields; names, lists, ranges, steps; refuses impossible dates and bad values', () => {
  for (const ok of ['0 3 * * *', '*/15 * * * *', '30 6 * * MON-FRI', '0 0 1,15 * *', '0 0 29 2 *', '5-10/2 1 * JAN-MAR sun', '0 0 * * 0']) assert.equal(sut.cronProblem(ok), undefined, ok);
  for (const bad of ['61 * * * *', '* 24 * * *', '0 0 0 * *', '0 0 * 13 *', '0 0 * * 7', '0 3 * *', '0 3 * * * *', '@daily', '0 0 30 2 *', '0 0 31 4,6 *', 'a b c d e', '0 0 L * *', '*/0 * * * *', '5-1 * * * *']) {
    assert.notEqual(sut.cronProblem(bad), undefined, bad);
  }
});

test('every cron spec the manifest accepts is accepted by Nomad (cronexpr port) and fires within 5 years', () => {
  const field = (min: number, max: number, names: string[] = []) => fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max }).map(String),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min: 1, max: 20 })).map(([a, s]) => `${a}/${s}`),
    fc.integer({ min: 1, max: 30 }).map((s) => `*/${s}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 3 }).map((xs) => xs.join(',')),
    ...(names.length ? [fc.constantFrom(...names)] : []),
  );
  const spec = fc.tuple(field(0, 59), field(0, 23), field(1, 31), field(1, 12, ['JAN', 'feb', 'DEC']), field(0, 6, ['MON', 'sun', 'FRI'])).map((f) => f.join(' '));
  fc.assert(fc.property(spec, (s) => {
    if (sut.cronProblem(s) !== undefined) return;
    const e = parseCron(s);
    assert.ok(nextCronTime(e, new Date('2026-01-01T00:00:00Z'), 366 * 5), s);
  }), { numRuns: 2000 });
});

test('time zones: IANA names as Go loads them', () => {
  for (const ok of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata']) {
    assert.equal(sut.timezoneProblem(ok), undefined, ok);
    assert.ok(validTimeZone(ok));
  }
  for (const bad of ['Mars/Olympus', 'europe/berlin', 'Asia/kolkata', 'Europe/Berlin ', '../etc/passwd', '']) assert.notEqual(sut.timezoneProblem(bad), undefined, bad);
});
