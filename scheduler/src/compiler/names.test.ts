import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as sut from './names.ts';

const long = 'a'.repeat(29) + 'b';

test('namespace, job ID, volume and generated host follow platform.md and end in the 8-hex hash', () => {
  assert.equal(sut.namespaceName('acme', 'team-1'), `t-acme-${sut.shortHash('team-1')}`);
  assert.equal(sut.jobId('shop', 'production', 'web', 'svc-1'), `shop-production-web-${sut.shortHash('svc-1')}`);
  assert.match(sut.hostVolumeName('shop-production-web-12345678', 'files', 'vol-1'), /^dv-shop-production-web-12345678-files-[0-9a-f]{8}$/);
  assert.equal(sut.generatedDomain('web', 'production', 'svc-1', 'apps.example.com'), `web-production-${sut.shortHash('svc-1')}.apps.example.com`);
  assert.equal(sut.routerName('svc-1'), 'd-svc-1');
  assert.equal(sut.canaryRouterName('svc-1'), 'd-svc-1-canary');
});

test('long slugs are shortened in the middle parts, never the hash, to at most 63 DNS-safe characters', () => {
  const names = [
    sut.jobId(long, long, long, 'svc-1'),
    sut.namespaceName(long, 'team-1'),
    sut.hostVolumeName(sut.jobId(long, long, long, 'svc-1'), long, 'vol-1'),
    sut.generatedHostLabel(long, long, 'svc-1'),
    sut.jobId('a-b', 'c-d-e-f-g-h-i-j-k-l-m-n-o-p-q-r', 'a-a-a-a-a-a-a-a-a-a-a-a-a-a-a', 'svc'),
  ];
  for (const n of names) {
    assert.ok(n.length <= 63, n);
    assert.match(n, /^[a-z0-9]+(-[a-z0-9]+)*$/, n);
  }
  assert.ok(names[0]?.endsWith(`-${sut.shortHash('svc-1')}`));
  assert.ok(names[2]?.endsWith(`-${sut.shortHash('vol-1')}`));
  assert.ok(names[2]?.startsWith('dv-'));
});

test('different owners never share a name even when slugs collide after shortening', () => {
  assert.notEqual(sut.jobId(long, long, long, 'svc-1'), sut.jobId(long, long, long, 'svc-2'));
});

test('slugs: 1–30 lower-case letters, digits and single hyphens', () => {
  for (const ok of ['a', 'web', 'nightly-report', 'a1-b2', 'x'.repeat(30)]) assert.ok(sut.isSlug(ok), ok);
  for (const bad of ['', 'Web', 'a--b', '-a', 'a-', 'a_b', 'x'.repeat(31), 'a.b']) assert.ok(!sut.isSlug(bad), bad);
});
