// public-databases.test.ts: with cluster_database_public_access on, the roles render Traefik's database entry points
// (valid against the Traefik v3 static schema, named and numbered as Drover's configuration defaults) and the edge
// node's firewall (loaded by the kernel in a private network namespace) opens exactly their ports; a worker opens
// none. A public database's router tags, as the compiler makes them, land on entry points the static config has.
// The default (off) is asserted in rendered.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../server/src/platform/config.ts';
import { databaseTcpTags } from '../../scheduler/src/databases/public.ts';
import { contractsDir, renderRoles, repoRoot, run, type Rendered } from './tools.ts';

let hosts: Record<'drover-1' | 'worker-1', Rendered>;
let outDir: string;

before(async () => {
  ({ hosts, outDir } = await renderRoles({ cluster_database_public_access: true }));
});

after(() => rmSync(outDir, { recursive: true, force: true }));

/** defaults are Drover's own public database settings with no variable set. */
function defaults(): { tlsEntrypoint: string; tlsPort: number; mysqlEntrypoint: string; mysqlPort: number } {
  return loadConfig({ NODE_ENV: 'test', DROVER_SECRET_KEY: 'a'.repeat(64), DROVER_DATA_DIR: outDir }).databasePublic;
}

/** staticConfig is the edge's rendered Traefik static configuration. */
function staticConfig(): { entryPoints: Record<string, { address: string; asDefault?: boolean }> } {
  const text = hosts['drover-1']['traefik/traefik.yml'];
  assert.ok(text, 'traefik.yml was rendered');
  return parseYaml(text) as { entryPoints: Record<string, { address: string; asDefault?: boolean }> };
}

/** acceptedPorts lists the TCP ports a host's input chain accepts from anywhere (no source address match). */
async function acceptedPorts(host: 'drover-1' | 'worker-1'): Promise<number[]> {
  const p = join(outDir, `db-${host}.nft`);
  writeFileSync(p, hosts[host]['common/nftables.conf'] ?? '');
  // unshare gives a private network namespace; the file name is ours (mkdtemp), never user input.
  const r = await run('unshare', ['--net', 'sh', '-c', `nft -f '${p}' && nft -j list ruleset`]);
  assert.equal(r.status, 0, r.stderr);
  type Rule = { chain: string; expr: Array<Record<string, { left?: unknown; right?: unknown }>> };
  const rules = (JSON.parse(r.stdout) as { nftables: Array<{ rule?: Rule }> }).nftables.flatMap((i) => (i.rule ? [i.rule] : []));
  const ports: number[] = [];
  for (const rule of rules) {
    if (rule.chain !== 'input' || !('accept' in (rule.expr.at(-1) ?? {}))) continue;
    const ms = rule.expr.filter((e) => e.match).map((e) => e.match!);
    if (ms.some((m) => JSON.stringify(m.left).includes('saddr') || JSON.stringify(m.left).includes('iif'))) continue;
    for (const m of ms) {
      if (!JSON.stringify(m.left).includes('"dport"')) continue;
      const right = m.right as number | { set: number[] };
      ports.push(...(typeof right === 'number' ? [right] : Array.isArray((right as { set?: unknown }).set) ? (right as { set: number[] }).set : []));
    }
  }
  return ports.sort((a, b) => a - b);
}

describe('public database entry points (cluster_database_public_access on)', () => {
  test('Traefik gets the shared SNI/TLS entry point and MySQL\'s own, named and numbered as Drover\'s defaults, valid against the schema', () => {
    const cfg = staticConfig();
    const validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(readFileSync(join(contractsDir, 'traefik-v3.json'), 'utf8')) as object);
    assert.ok(validate(cfg), JSON.stringify(validate.errors, null, 2));
    const d = defaults();
    assert.equal(cfg.entryPoints[d.tlsEntrypoint]?.address, `:${d.tlsPort}`);
    assert.equal(cfg.entryPoints[d.mysqlEntrypoint]?.address, `:${d.mysqlPort}`);
    assert.deepEqual(Object.entries(cfg.entryPoints).filter(([, e]) => e.asDefault).map(([n]) => n), ['websecure'], 'routers naming no entry point never land on a database one');
  });

  test('the edge opens exactly 80, 443 and the two database ports to everyone; a worker opens none of them', async () => {
    const d = defaults();
    const ssh = Number((parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', 'common', 'defaults', 'main.yml'), 'utf8')) as { common_ssh_port: number }).common_ssh_port);
    assert.deepEqual((await acceptedPorts('drover-1')).filter((p) => p !== ssh), [80, 443, d.mysqlPort, d.tlsPort].sort((a, b) => a - b), 'edge');
    assert.deepEqual((await acceptedPorts('worker-1')).filter((p) => [80, 443, d.tlsPort, d.mysqlPort].includes(p)), [], 'worker');
  });

  test("a public database's router, as compiled with Drover's defaults, lands on an entry point of the static config", () => {
    const cfg = staticConfig();
    const d = defaults();
    const id = '7d2e4b10-0000-4000-8000-0000000000d1';
    for (const [engine, entrypoint] of [['postgres', d.tlsEntrypoint], ['redis', d.tlsEntrypoint], ['mongodb', d.tlsEntrypoint], ['mysql', d.mysqlEntrypoint]] as const) {
      const tags = databaseTcpTags(id, engine, { hostname: 'db.apps.example.com', entrypoint, certResolver: 'letsencrypt' });
      const eps = tags.find((t) => /^traefik\.tcp\.routers\.[^.]+\.entrypoints=/.test(t))?.split('=')[1]?.split(',') ?? [];
      assert.ok(eps.length > 0, `${engine}: the router names its entry point`);
      for (const ep of eps) assert.ok(cfg.entryPoints[ep], `${engine}: entry point ${ep} is in the static configuration`);
    }
  });
});
