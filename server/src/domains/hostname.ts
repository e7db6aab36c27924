/**
 * Hostname validation for custom domains: lower-case LDH labels, internationalised names converted to punycode with
 * node:url's domainToASCII and validated again, at most 253 characters, labels of at most 63, at least two labels, a
 * non-numeric top-level label, no wildcard. Anything that could reach a Traefik rule as code — backticks, quotes,
 * parentheses, `||`, spaces, commas — is refused before conversion, and so is upper case (refused, not lowered).
 */
import { domainToASCII } from 'node:url';

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Characters that are never part of a hostname as typed; checked on the raw input, before IDN conversion.
// eslint-disable-next-line no-control-regex
const HOSTILE_RE = /[\s`'"()|&,;:/\\*?#@!$%^={}[\]<>~+\u0000-\u001f\u007f]/u;

/** HostnameResult is a valid hostname (ASCII, punycode for IDN) or the reason it is refused. */
export type HostnameResult = { ok: true; hostname: string } | { ok: false; message: string };

/** isLdhHostname tells whether an ASCII name is lower-case LDH labels (≤ 63 each), ≤ 253, ≥ 2 labels, non-numeric TLD. */
export function isLdhHostname(h: string): boolean {
  if (h.length === 0 || h.length > 253) return false;
  const labels = h.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL_RE.test(l))) return false;
  return !/^[0-9]+$/.test(labels.at(-1) as string);
}

/** parseHostname validates a user-supplied hostname and returns its ASCII form (punycode for IDN). */
export function parseHostname(input: string): HostnameResult {
  if (input.length === 0) return { ok: false, message: 'must not be empty' };
  if (input.length > 253) return { ok: false, message: 'must be at most 253 characters' };
  if (input.includes('*')) return { ok: false, message: 'must not be a wildcard' };
  if (HOSTILE_RE.test(input)) return { ok: false, message: 'may contain only letters, digits, hyphens and dots' };
  if (input !== input.toLowerCase()) return { ok: false, message: 'must be lower case' };
  if (input.endsWith('.') || input.startsWith('.') || input.includes('..')) return { ok: false, message: 'must not have empty labels' };
  const ascii = domainToASCII(input);
  if (ascii === '') return { ok: false, message: 'is not a valid internationalised domain name' };
  if (ascii.length > 253) return { ok: false, message: 'must be at most 253 characters in punycode' };
  if (ascii.split('.').some((l) => l.length > 63)) return { ok: false, message: 'labels must be at most 63 characters' };
  if (!isLdhHostname(ascii)) return { ok: false, message: 'must be lower-case letters, digits and hyphens in dot-separated labels, with a non-numeric top-level label' };
  return { ok: true, hostname: ascii };
}

/** isUnder tells whether `hostname` equals `parent` or is a subdomain of it. */
export function isUnder(hostname: string, parent: string): boolean {
  return hostname === parent || hostname.endsWith('.' + parent);
}
