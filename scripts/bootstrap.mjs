#!/usr/bin/env node
// bootstrap.mjs: the entry point of the README's two Quick start commands (`npm start`, `npm test`).
// It runs on whatever Node the machine has (Node 20 here), so it is plain JavaScript with no dependencies.
// It installs the npm dependencies when they are missing or stale (bringing Node 24 as the pinned `node`
// devDependency), then hands over to an npm script, which npm runs with node_modules/.bin — and so Node 24 —
// first on the PATH. Every process is started with an argv array, never a shell string.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];

/** run starts a command with an argv array in the repository root and exits with its status when it fails. */
function run(cmd, args, extraEnv = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...extraEnv } });
  if (r.error) {
    console.error(`drover: could not start ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** depsStale tells whether node_modules is missing or older than the lockfile. */
function depsStale() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker) || !existsSync(join(root, 'node_modules', '.bin', 'node'))) return true;
  return existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs;
}

if (mode !== 'start' && mode !== 'test') {
  console.error('usage: node scripts/bootstrap.mjs start|test');
  process.exit(2);
}

if (mode === 'test') {
  // System packages the tests use (Redis, Chromium, Go's text/template, linters): installed with apt when missing.
  run('bash', [join(root, 'scripts', 'system-deps.sh')]);
}

if (depsStale()) {
  const hasLock = existsSync(join(root, 'package-lock.json'));
  run('npm', hasLock ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (mode === 'start') {
  if (pkg.scripts['build:web']) run('npm', ['run', '--silent', 'build:web']);
  run('npm', ['run', '--silent', 'serve']);
} else {
  run('npm', ['run', '--silent', 'check']);
}
