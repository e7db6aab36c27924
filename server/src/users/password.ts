/**
 * Passwords: argon2id through Node 24's built-in `crypto.argon2` (no native npm module), a random 16-byte salt per
 * hash, stored as a PHC string (`$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>`) so costs can be raised later while old
 * hashes still verify. Verification compares in constant time.
 */
import { argon2, randomBytes, timingSafeEqual } from 'node:crypto';

/** Argon2Costs are the argon2id cost parameters: memory in KiB, passes (time cost) and parallelism. */
export interface Argon2Costs {
  /** memoryKiB is the memory cost in KiB (≥ 19456, OWASP's minimum for t=2). */
  memoryKiB: number;
  /** passes is the time cost (≥ 2). */
  passes: number;
  /** parallelism is the lane count (≥ 1). */
  parallelism: number;
}

/** DEFAULT_COSTS are OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): about 60 ms on a laptop core. */
export const DEFAULT_COSTS: Readonly<Argon2Costs> = Object.freeze({ memoryKiB: 19456, passes: 2, parallelism: 1 });

const TAG_LENGTH = 32;
const PHC_RE = /^\$argon2id\$v=19\$m=(\d{1,8}),t=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, c: Argon2Costs): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2('argon2id', { message: password, nonce: salt, parallelism: c.parallelism, tagLength: TAG_LENGTH, memory: c.memoryKiB, passes: c.passes }, (err, key) => {
      if (err) reject(err);
      else resolve(key);
    });
  });
}

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

/** hashPassword hashes a password with argon2id and a fresh random salt; it returns the PHC string to store. */
export async function hashPassword(password: string, costs: Argon2Costs = DEFAULT_COSTS): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, costs);
  return `$argon2id$v=19$m=${costs.memoryKiB},t=${costs.passes},p=${costs.parallelism}$${b64(salt)}$${b64(key)}`;
}

/** verifyPassword tells whether a password matches a PHC string made by hashPassword; a malformed hash is false. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const m = PHC_RE.exec(phc);
  if (!m) return false;
  const costs = { memoryKiB: Number(m[1]), passes: Number(m[2]), parallelism: Number(m[3]) };
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const expected = Buffer.from(m[5] ?? '', 'base64');
  if (expected.length !== TAG_LENGTH) return false;
  const actual = await derive(password, salt, costs);
  return timingSafeEqual(actual, expected);
}

let dummy: Promise<string> | undefined;

/** burnPasswordCheck spends the time a real verification takes, for unknown emails (no timing-based enumeration). */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'));
  await verifyPassword(password, await dummy);
}
