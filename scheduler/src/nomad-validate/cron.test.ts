import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextCronTime, parseCron, validTimeZone } from './cron.ts';

test('parseCron accepts the specs Nomad\'s cronexpr accepts', () => {
  const sut = parseCron;
  for (const ok of ['* * * * *', '*/5 * * * *', '0 0 * * 1-5', '0 12 1 JAN,jul *', '0 0 L * ?', '0 0 15W * ?', '0 0 ? * MON#2', '0 0 ? * 5L', '@daily', '@hourly', '0 0 1 1 * 2030', '30 0 0 1 1 * 2030', '0 9-17/2 * * mon-fri', '0 0 * * 7']) {
    assert.doesNotThrow(() => sut(ok), ok);
  }
});

test('parseCron rejects malformed specs with the field named', () => {
  const sut = parseCron;
  const bad: [string, RegExp][] = [
    ['60 * * * *', /minute field/], ['* 24 * * *', /hour field/], ['* * 0 * *', /day-of-month field/],
    ['* * * 13 *', /month field/], ['* * * * 8', /day-of-week field/], ['* * * *', /expected 5 to 7 fields/],
    ['*/0 * * * *', /minute field/], ['5-1 * * * *', /minute field/], ['a * * * *', /minute field/],
    ['@reboot', /unknown cron macro/], ['1,,2 * * * *', /minute field/], ['* * * * * * * *', /fields/],
  ];
  for (const [spec, re] of bad) assert.throws(() => sut(spec), re, spec);
});

test('nextCronTime finds the next firing in UTC', () => {
  const from = new Date('2026-01-01T10:02:30Z');
  assert.equal(nextCronTime(parseCron('*/5 * * * *'), from)?.toISOString(), '2026-01-01T10:05:00.000Z');
  assert.equal(nextCronTime(parseCron('0 0 * * *'), from)?.toISOString(), '2026-01-02T00:00:00.000Z');
  assert.equal(nextCronTime(parseCron('0 9 * * mon'), from)?.toISOString(), '2026-01-05T09:00:00.000Z');
});

test('validTimeZone follows Go\'s LoadLocation', () => {
  assert.ok(validTimeZone('UTC'));
  assert.ok(validTimeZone('Europe/Paris'));
  assert.ok(validTimeZone(''));
  assert.ok(!validTimeZone('Mars/Olympus'));
});
