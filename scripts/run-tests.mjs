#!/usr/bin/env node
// run-tests.mjs: runs every test of the repository in one `node --test` run (one summary at the end), with the
// global setup in test/global-setup.ts starting the real Postgres and Redis the suites share.
// Usage: npm run test:node [-- <file or glob> …]   (default: every *.test.ts of every workspace)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const defaults = [
  'scheduler/src/**/*.test.ts',
  'server/src/**/*.test.ts',
  'cli/src/**/*.test.ts',
  'web/e2e/**/*.test.ts',
  'test/**/*.test.ts',
];
const patterns = process.argv.slice(2).length > 0 ? process.argv.slice(2) : defaults;
const concurrency = process.env.TEST_CONCURRENCY ?? String(Math.max(2, availableParallelism() * 2));
const args = ['--test', `--test-concurrency=${concurrency}`, '--test-timeout=300000'];
if (existsSync('test/global-setup.ts')) args.push('--test-global-setup=test/global-setup.ts');
args.push(...patterns);
const r = spawnSync(process.execPath, args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
