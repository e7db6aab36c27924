/**
 * The S3 adapter: reads an object back from a team's S3-compatible destination (path-style, SigV4 signed) and
 * digests it while streaming (size + SHA-256), so a verdict never trusts an ETag. Credentials are passed in by the
 * caller from the SecretStore and never logged.
 */
import { createHash } from 'node:crypto';
import aws4 from 'aws4';
import type { FileDigest } from './outcome.ts';

/** S3Location is where an object is. */
export interface S3Location {
  /** endpoint is the http(s) URL of the S3 API. */
  endpoint: string;
  /** region is the signing region ('' means us-east-1). */
  region: string;
  /** bucket is the bucket. */
  bucket: string;
  /** key is the object key. */
  key: string;
}

/** S3Credentials are an access key pair. */
export interface S3Credentials {
  /** accessKeyId is the access key ID. */
  accessKeyId: string;
  /** secretAccessKey is the secret key. */
  secretAccessKey: string;
}

/** ObjectRead is a digest, or why there is none (`missing` for 404, `error` for anything else). */
export type ObjectRead = { ok: true; digest: FileDigest } | { ok: false; missing: boolean; error: string };

function encodeKey(key: string): string {
  return key.split('/').map((p) => encodeURIComponent(p)).join('/');
}

/** digestObject GETs the object and returns its size and SHA-256 computed from the bytes received; timeoutMs bounds the whole read. */
export async function digestObject(loc: S3Location, creds: S3Credentials, timeoutMs = 600_000): Promise<ObjectRead> {
  const u = new URL(loc.endpoint);
  const path = `${u.pathname.replace(/\/$/, '')}/${encodeURIComponent(loc.bucket)}/${encodeKey(loc.key)}`;
  const signed = aws4.sign({
    host: u.host, path, method: 'GET', service: 's3', region: loc.region || 'us-east-1', protocol: u.protocol,
    headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
  }, { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers ?? {})) if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
  delete headers.Host;
  let res: Response;
  try {
    res = await fetch(`${u.protocol}//${u.host}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    return { ok: false, missing: false, error: `destination unreachable: ${(e as Error).message}` };
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return { ok: false, missing: true, error: 'object not found' };
  }
  if (res.status !== 200 || !res.body) {
    await res.body?.cancel();
    return { ok: false, missing: false, error: `destination answered ${res.status}` };
  }
  const h = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of res.body) {
      const b = chunk as Uint8Array;
      size += b.byteLength;
      h.update(b);
    }
  } catch (e) {
    return { ok: false, missing: false, error: `read interrupted: ${(e as Error).message}` };
  }
  return { ok: true, digest: { size, sha256: h.digest('hex') } };
}

/**
 * deleteObject DELETEs the object (SigV4). A missing object counts as deleted (S3 answers 204 either way); any other
 * answer or an unreachable destination throws, so a prune is never recorded for an object still stored.
 */
export async function deleteObject(loc: S3Location, creds: S3Credentials, timeoutMs = 60_000): Promise<void> {
  const u = new URL(loc.endpoint);
  const path = `${u.pathname.replace(/\/$/, '')}/${encodeURIComponent(loc.bucket)}/${encodeKey(loc.key)}`;
  const signed = aws4.sign({
    host: u.host, path, method: 'DELETE', service: 's3', region: loc.region || 'us-east-1', protocol: u.protocol,
    headers: { 'X-Amz-Content-Sha256': 'UNSIGNED-PAYLOAD' },
  }, { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers ?? {})) if (typeof v === 'string' || typeof v === 'number') headers[k] = String(v);
  delete headers.Host;
  const res = await fetch(`${u.protocol}//${u.host}${path}`, { method: 'DELETE', headers, signal: AbortSignal.timeout(timeoutMs) });
  await res.body?.cancel();
  if (res.status !== 204 && res.status !== 200 && res.status !== 404) throw new Error(`the destination answered ${res.status} to the delete`);
}
