#!/usr/bin/env node
// drover: a tiny launcher. It re-executes cli/src/main.ts with the repository's pinned Node 24
// (node_modules/.bin/node, resolved relative to this file), which runs TypeScript natively. Arguments are passed as
// an argv array; no shell is involved. The exit status (or terminating signal) of the child is ours.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const node = join(root, 'node_modules', '.bin', 'node');
const main = join(here, '..', 'src', 'main.ts');
if (!existsSync(node)) {
  process.stderr.write(`drover: ${node} is missing; run npm install in ${root}\n`);
  process.exit(127);
}
const r = spawnSync(node, [main, ...process.argv.slice(2)], { stdio: 'inherit' });
if (r.error) {
  process.stderr.write(`drover: cannot start ${node}: ${r.error.message}\n`);
  process.exit(127);
}
if (r.signal) process.kill(process.pid, r.signal);
process.exit(r.status ?? 1);
