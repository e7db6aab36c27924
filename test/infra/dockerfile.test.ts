// dockerfile.test.ts: no Docker engine runs on Drover's build machines, so the image build itself is verified in the
// lab (docs/infra/lab.md); here the Dockerfile is parsed and its promises checked: Node 24, npm ci, the dashboard
// built, the server run natively from its TypeScript sources as a non-root user, and a context without secrets.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './tools.ts';

/** Instruction is one Dockerfile instruction with its arguments (continuation lines joined). */
interface Instruction { op: string; args: string }

/** stages parses a Dockerfile into its stages (each starting at FROM). */
function stages(text: string): Array<{ from: string; name: string | null; body: Instruction[] }> {
  const joined = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const out: Array<{ from: string; name: string | null; body: Instruction[] }> = [];
  for (const line of joined) {
    const m = /^(\S+)\s*(.*)$/.exec(line);
    if (!m) continue;
    const op = (m[1] as string).toUpperCase();
    const args = m[2] as string;
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      out.push({ from: f?.[1] ?? args, name: f?.[2] ?? null, body: [] });
    } else {
      assert.ok(out.length > 0, `${op} before FROM`);
      out[out.length - 1]?.body.push({ op, args });
    }
  }
  return out;
}

describe('Dockerfile', () => {
  const all = stages(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'));
  const final = all[all.length - 1];

  test('every stage is Node 24 and COPY --from names an earlier stage', () => {
    assert.ok(all.length >= 1);
    const names = new Set<string>();
    for (const s of all) {
      assert.match(s.from, /^node:24[.-]/, `base image ${s.from}`);
      for (const i of s.body) {
        const from = /--from=(\S+)/.exec(i.args)?.[1];
        if (i.op === 'COPY' && from) assert.ok(names.has(from), `COPY --from=${from} names no earlier stage`);
      }
      if (s.name) names.add(s.name);
    }
  });

  test('dependencies come from npm ci and the dashboard is built', () => {
    const runs = all.flatMap((s) => s.body.filter((i) => i.op === 'RUN').map((i) => i.args));
    assert.ok(runs.some((r) => /\bnpm ci\b/.test(r)));
    assert.ok(runs.some((r) => /npm run build -w web --if-present/.test(r)));
    assert.ok(!runs.some((r) => /\bnpm install\b/.test(r)), 'npm install would ignore the lockfile');
  });

  test('the final stage runs the server as a non-root user, in exec form', () => {
    const users = final?.body.filter((i) => i.op === 'USER') ?? [];
    const user = users[users.length - 1]?.args;
    assert.ok(user && !['root', '0', '0:0'].includes(user), `runs as ${user}`);
    const cmd = final?.body.filter((i) => i.op === 'CMD').pop()?.args ?? '';
    assert.deepEqual(JSON.parse(cmd), ['node', 'server/src/main.ts']);
    assert.ok(final?.body.some((i) => i.op === 'ENV' && /NODE_ENV=production/.test(i.args)));
  });

  test('.dockerignore keeps local state and secrets out of the build context', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
    for (const p of ['.git', '**/node_modules', '.env', '.vagrant', 'terraform/**/*.tfstate*', 'terraform/**/*.tfvars']) {
      assert.ok(ignore.includes(p), `.dockerignore lacks ${p}`);
    }
    assert.ok(existsSync(join(repoRoot, 'package-lock.json')), 'npm ci needs the lockfile');
  });
});
