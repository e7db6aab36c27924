/**
 * JSON request bodies: read with a size limit, parsed strictly, and refused with a problem naming `body` when they
 * are not JSON. Only `application/json` is accepted for bodies.
 */
import type { Context } from 'koa';
import { DomainError } from '../core/errors.ts';

/** MAX_BODY_BYTES is the largest JSON body the API reads (1 MiB). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** readJsonBody reads and parses the request body; an empty body is `undefined`. */
export async function readJsonBody(ctx: Context, limit = MAX_BODY_BYTES): Promise<unknown> {
  const length = Number(ctx.get('content-length') || 0);
  if (length > limit) throw new DomainError('request/too_large', `The body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new DomainError('request/too_large', `The body exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  if (!ctx.is('application/json', 'application/*+json')) {
    throw new DomainError('request/unsupported_media_type', 'Send the body as application/json');
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new DomainError('request/malformed_json', 'The body is not valid JSON', {
      errors: [{ path: 'body', message: 'not valid JSON' }],
    });
  }
}
