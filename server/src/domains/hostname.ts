/**
 * Hostname validation for custom domains: the scheduler's hostnameProblem (lower-case LDH labels, ≤ 253 characters,
 * labels ≤ 63, at least two labels, no wildcard, no backtick, quote, parenthesis, `||` or space, upper case refused
 * rather than lowered), applied to the input and, for an internationalised name, again to its punycode form made
 * with node:url's domainToASCII.
 */
import { domainToASCII } from 'node:url';
import { hostnameProblem } from '@drover/scheduler/compiler/rules.ts';

// Characters never part of a hostname as typed; checked on raw non-ASCII input before IDN conversion.
// eslint-disable-next-line no-control-regex
const HOSTILE_RE = /[\s`'"()|&,;:/\\*?#@!$%^={}[\]<>~+\u0000-\u001f\u007f]/u;

/** HostnameResult is a valid hostname (ASCII, punycode for IDN) or the reason it is refused. */
export type HostnameResult = { ok: true; hostname: string } | { ok: false; message: string };

/** isLdhHostname tells whether an ASCII name passes the scheduler's hostname rule. */
export function isLdhHostname(h: string): boolean {
  return hostnameProblem(h) === undefined;
}

/** parseHostname validates a user-supplied hostname and returns its ASCII form (punycode for IDN). */
export function parseHostname(input: string): HostnameResult {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(input)) {
    const p = hostnameProblem(input);
    return p ? { ok: false, message: p } : { ok: true, hostname: input };
  }
  if (input.length > 253) return { ok: false, message: 'must be at most 253 characters' };
  if (input.includes('*')) return { ok: false, message: 'must not be a wildcard' };
  if (HOSTILE_RE.test(input)) return { ok: false, message: 'may contain only letters, digits, hyphens and dots' };
  if (input !== input.toLowerCase()) return { ok: false, message: 'must be lower case' };
  const ascii = domainToASCII(input);
  if (ascii === '') return { ok: false, message: 'is not a valid internationalised domain name' };
  const p = hostnameProblem(ascii);
  return p ? { ok: false, message: `in punycode (${ascii.slice(0, 80)}): ${p}` } : { ok: true, hostname: ascii };
}

/** isUnder tells whether `hostname` equals `parent` or is a subdomain of it. */
export function isUnder(hostname: string, parent: string): boolean {
  return hostname === parent || hostname.endsWith('.' + parent);
}
