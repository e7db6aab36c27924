/**
 * Test helpers for the Nomad double: a small HTTP caller over real sockets, a poller, and contract assertions.
 */
import assert from 'node:assert/strict';
import { validateNomad } from '../../contracts/index.ts';

/** ApiResult is one HTTP answer: status, headers, raw text and parsed JSON (undefined when not JSON). */
export interface ApiResult {
  status: number;
  headers: Headers;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

/** api sends one request to the double and reads the whole answer. */
export async function api(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult> {
  const res = await fetch(`${base}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** until polls fn every 10 ms until it returns a truthy value, and fails after timeoutMs. */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** assertContract asserts that a body is valid for one `$defs` type of the Nomad contract. */
export function assertContract(def: string, body: unknown): void {
  assert.deepEqual(validateNomad(def, body), [], `${def} shape`);
}
