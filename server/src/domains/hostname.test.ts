import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isLdhHostname, parseHostname } from './hostname.ts';

describe('custom hostname validation', () => {
  it('accepts lower-case LDH names and converts IDN to punycode', () => {
    assert.deepEqual(parseHostname('shop.example.com'), { ok: true, hostname: 'shop.example.com' });
    assert.deepEqual(parseHostname('a-b.c1.example.co.uk'), { ok: true, hostname: 'a-b.c1.example.co.uk' });
    assert.deepEqual(parseHostname('bücher.example'), { ok: true, hostname: 'xn--bcher-kva.example' });
    assert.deepEqual(parseHostname('xn--bcher-kva.example'), { ok: true, hostname: 'xn--bcher-kva.example' });
    assert.deepEqual(parseHostname(`${'a'.repeat(63)}.example.com`), { ok: true, hostname: `${'a'.repeat(63)}.example.com` });
  });

  const hostile = [
    'shop.example.com`) || Host(`evil.com', 'shop`.example.com', "shop'.example.com", 'shop".example.com', 'shop(.example.com',
    'shop).example.com', 'a.com||b.com', '*.example.com', 'shop*.example.com', 'shop example.com', ' shop.example.com',
    'shop.example.com ', 'Shop.example.com', 'SHOP.EXAMPLE.COM', 'Bücher.example', 'shop.example.com.', '.example.com', 'a..example.com',
    '-shop.example.com', 'shop-.example.com', 'shop_x.example.com', 'localhost', 'example', '127.0.0.1', '1.2.3.4',
    `${'a'.repeat(64)}.example.com`, `${'a.'.repeat(126)}com`, 'shop.example.com/path', 'shop.example.com:443', 'user@shop.example.com',
    'shop.example.com\n', 'shop\u0000.example.com', 'shop.example.com,evil.com', '{{ .Host }}.example.com', '${var}.example.com', '',
  ];
  for (const h of hostile) {
    it(`refuses ${JSON.stringify(h)}`, () => {
      const r = parseHostname(h);
      assert.equal(r.ok, false);
    });
  }

  it('checks LDH form on ASCII names', () => {
    assert.equal(isLdhHostname('a.b'), true);
    assert.equal(isLdhHostname('a.123'), false);
    assert.equal(isLdhHostname('A.b'), false);
  });
});
