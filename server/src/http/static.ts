/**
 * staticSite serves the dashboard's static build (web/build) for every non-API GET, falling back to index.html so
 * the single-page app handles its own routes. Paths are resolved inside the root only; dot-files are never served.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Middleware } from 'koa';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

async function fileAt(path: string): Promise<{ size: number } | null> {
  try {
    const s = await stat(path);
    return s.isFile() ? { size: s.size } : null;
  } catch {
    return null;
  }
}

/** staticSite returns a middleware serving files under `root`; it does nothing when `root` has no index.html. */
export function staticSite(root: string): Middleware {
  const base = normalize(root + sep);
  return async (ctx, next) => {
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || ctx.path.startsWith('/api/')) return next();
    let rel: string;
    try {
      rel = decodeURIComponent(ctx.path);
    } catch {
      return next();
    }
    if (rel.includes('\0') || rel.split('/').some((p) => p.startsWith('.'))) return next();
    let path = normalize(join(base, rel));
    if (!path.startsWith(base)) return next();
    let file = await fileAt(path);
    const immutable = file !== null && rel.includes('/_app/immutable/');
    if (!file) {
      path = join(base, 'index.html');
      file = await fileAt(path);
      if (!file) return next();
    }
    ctx.type = TYPES[extname(path)] ?? 'application/octet-stream';
    ctx.length = file.size;
    ctx.set('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.set(
      'Content-Security-Policy',
      "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    );
    ctx.body = ctx.method === 'HEAD' ? null : createReadStream(path);
  };
}
