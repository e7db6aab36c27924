/**
 * UrlGuard: decides whether Drover may call a webhook URL. Only http(s) URLs without credentials; the host must not be
 * a metadata or local name, and EVERY address it resolves to must be public — private (RFC 1918, ULA), loopback,
 * link-local (169.254/16, fe80::/10, where cloud metadata lives), CGNAT, unspecified, multicast, reserved and
 * IPv4-mapped/NAT64 forms of those are refused. Checked when a webhook is saved and again at every send (DNS may
 * have changed: rebinding); the sender then connects to the checked address only. `allowLoopback` exists for tests
 * and is set in code, never from a tenant-controlled field.
 */
import { BlockList, isIP } from 'node:net';
import type { DnsResolver } from '../domains/verification.ts';

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32], ['100::', 64],
] as const) blocked.addSubnet(net, prefix, 'ipv6');
const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const BLOCKED_NAMES = /(^|\.)(localhost|localdomain|internal|local|metadata|metadata\.google\.internal|instance-data)$/i;

/** UrlRefusal says why a URL is refused (shown to the tenant: it names no internal detail beyond the category). */
export class UrlRefusal extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlRefusal';
  }
}

/** embeddedV4 returns the IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d) or NAT64 (64:ff9b::/96) IPv6 address. */
function embeddedV4(ip: string): string | null {
  const m = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (m) return m[1] as string;
  const h = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (!h) return null;
  const a = parseInt(h[1] as string, 16);
  const b = parseInt(h[2] as string, 16);
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}

/** CheckedTarget is a URL and the addresses it may be reached at. */
export interface CheckedTarget {
  /** url is the parsed URL. */
  url: URL;
  /** addresses are the checked addresses (connect to these only). */
  addresses: string[];
}

/** UrlGuard checks webhook targets. */
export class UrlGuard {
  private readonly resolver: DnsResolver;
  private readonly allowLoopback: boolean;

  constructor(resolver: DnsResolver, opts: { allowLoopback?: boolean } = {}) {
    this.resolver = resolver;
    this.allowLoopback = opts.allowLoopback ?? false;
  }

  /** isAllowedAddress tells whether an IP address is a permitted target. */
  isAllowedAddress(ip: string): boolean {
    const family = isIP(ip);
    if (family === 0) return false;
    const v4 = family === 6 ? embeddedV4(ip.toLowerCase()) : ip;
    const addr = v4 ?? ip;
    const type = v4 ? 'ipv4' : family === 4 ? 'ipv4' : 'ipv6';
    if (this.allowLoopback && loopback.check(addr, type)) return true;
    return !blocked.check(addr, type);
  }

  /** parse checks the URL's form (scheme, credentials, host name); throws UrlRefusal. */
  parse(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new UrlRefusal('not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UrlRefusal('only http and https URLs are allowed');
    if (url.username || url.password) throw new UrlRefusal('credentials in the URL are not allowed');
    if (raw.length > 2048) throw new UrlRefusal('at most 2048 characters');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) === 0 && (BLOCKED_NAMES.test(host) || !host.includes('.'))) {
      if (!(this.allowLoopback && host === 'localhost')) throw new UrlRefusal('the host is a local or metadata name');
    }
    return url;
  }

  /** check parses the URL and resolves its host; every address must be allowed. Throws UrlRefusal. */
  async check(raw: string): Promise<CheckedTarget> {
    const url = this.parse(raw);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: string[];
    if (isIP(host) !== 0) addresses = [host];
    else if (this.allowLoopback && host === 'localhost') addresses = ['127.0.0.1'];
    else {
      try {
        addresses = await this.resolver.resolveAddresses(host);
      } catch {
        throw new UrlRefusal('the host name could not be resolved');
      }
    }
    if (addresses.length === 0) throw new UrlRefusal('the host name does not resolve');
    for (const a of addresses) {
      if (!this.isAllowedAddress(a)) throw new UrlRefusal('the host resolves to a private, loopback, link-local or reserved address');
    }
    return { url, addresses };
  }
}
