/**
 * The Prometheus text parser: a Traefik-shaped exposition, the format's corners (escapes, NaN/Inf, timestamps,
 * trailing commas, spacing) and strictness (a malformed line throws naming its line).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText as sut, PrometheusParseError } from './prometheus.ts';

/** exposition builds a Traefik-like exposition around the given sample lines. */
function exposition(lines: string[]): string {
  return [
    '# HELP traefik_service_requests_bytes_total The total size of requests in bytes received by a service.',
    '# TYPE traefik_service_requests_bytes_total counter',
    ...lines,
    '',
  ].join('\n');
}

describe('parsePrometheusText', () => {
  it('reads names, labels, values and drops HELP/TYPE and comments', () => {
    const r = sut(exposition([
      'traefik_service_requests_bytes_total{code="200",method="GET",protocol="http",service="d-1@consulcatalog"} 1234',
      '# a plain comment',
      'go_goroutines 42',
      'traefik_config_last_reload_success 1.7e+09',
    ]));
    assert.deepEqual(r, [
      { name: 'traefik_service_requests_bytes_total', labels: { code: '200', method: 'GET', protocol: 'http', service: 'd-1@consulcatalog' }, value: 1234 },
      { name: 'go_goroutines', labels: {}, value: 42 },
      { name: 'traefik_config_last_reload_success', labels: {}, value: 1.7e9 },
    ]);
  });

  it('unescapes label values, accepts NaN, ±Inf, timestamps, trailing commas, spacing and CRLF', () => {
    const r = sut('a{x="q\\"uote",y="back\\\\slash",z="new\\nline",} NaN\r\nb { le = "+Inf" } +Inf 1700000000000\r\n  c -Inf\n d{} -1.5e-3\n');
    assert.equal(r.length, 4);
    assert.deepEqual(r[0]?.labels, { x: 'q"uote', y: 'back\\slash', z: 'new\nline' });
    assert.ok(Number.isNaN(r[0]?.value));
    assert.deepEqual(r[1], { name: 'b', labels: { le: '+Inf' }, value: Number.POSITIVE_INFINITY, timestampMs: 1_700_000_000_000 });
    assert.equal(r[2]?.value, Number.NEGATIVE_INFINITY);
    assert.equal(r[3]?.value, -0.0015);
  });

  it('finds the closing quote past escaped quotes and after an escaped backslash', () => {
    assert.deepEqual(sut('a{x="q\\"u\\\\",y="z\\\\\\"",w=""} 1\n')[0]?.labels, { x: 'q"u\\', y: 'z\\"', w: '' });
  });

  it('with `only`, keeps the named metrics and skips the others unparsed', () => {
    const text = 'a{x="1"} 1\nb{this is not parsed} ?\nc 3\n';
    assert.deepEqual(sut(text, { only: new Set(['a', 'c']) }).map((s) => s.name), ['a', 'c']);
    assert.throws(() => sut(text), PrometheusParseError, 'without `only` the same text is refused');
    assert.throws(() => sut('a{x="1} 2\n', { only: new Set(['a']) }), PrometheusParseError, 'a kept metric is still parsed strictly');
  });

  it('an empty exposition has no samples', () => {
    assert.deepEqual(sut(''), []);
    assert.deepEqual(sut('\n# only a comment\n'), []);
  });

  for (const [what, text, line] of [
    ['a value that is not a number', 'a 1\nb twelve\n', 2],
    ['a missing value', 'a{x="1"}\n', 1],
    ['an unterminated label value', 'a{x="1} 2\n', 1],
    ['a repeated label', 'a{x="1",x="2"} 2\n', 1],
    ['a bad escape', 'a{x="\\t"} 2\n', 1],
    ['a label without a quoted value', 'a{x=1} 2\n', 1],
    ['a missing comma between labels', '\n\na{x="1" y="2"} 2\n', 3],
    ['a bad metric name', '1abc 2\n', 1],
    ['a non-integer timestamp', 'a 1 2.5\n', 1],
    ['extra fields', 'a 1 2 3\n', 1],
    ['an unknown TYPE', '# TYPE a countre\na 1\n', 1],
  ] as const) {
    it(`refuses ${what}, naming the line`, () => {
      assert.throws(() => sut(text), (e: unknown) => e instanceof PrometheusParseError && e.line === line, text);
    });
  }
});
