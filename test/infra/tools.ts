// tools.ts: shared helpers of the infrastructure checks — where the repository and the check tools are, running a
// tool with an argv array, parsing HCL with hcl2json, and rendering every Ansible role's templates.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseHclText } from '@cdktf/hcl2json';

/** repoRoot is the absolute path of the repository (two folders above this file). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** contractsDir is the shared contracts folder that sits beside the repository (../shared/contracts). */
export const contractsDir = join(repoRoot, '..', 'shared', 'contracts');

/** toolsBin is the bin folder of the virtualenv that scripts/system-deps.d/infra.sh fills (DROVER_TOOLS_DIR). */
export const toolsBin = join(process.env.DROVER_TOOLS_DIR ?? '/opt/drover-tools', 'venv', 'bin');

/** RunResult is what a finished process left: its exit status and its whole output. */
export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * run starts `cmd` with the argv array `args` (never a shell) in `cwd` (default: the repository) and resolves when
 * it exits. Rejects only when the program cannot be started (e.g. not installed). `input`, when given, is written
 * to its stdin.
 */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd ?? repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    // A program that exits without reading its stdin must not crash the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** tool gives the absolute path of a Python tool installed in the tools virtualenv, failing loudly when missing. */
export function tool(name: string): string {
  const p = join(toolsBin, name);
  if (!existsSync(p)) throw new Error(`${name} is not installed in ${toolsBin}: run scripts/system-deps.d/infra.sh`);
  return p;
}

/** onPath tells whether an executable of that name is on the PATH. */
export function onPath(name: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, name)));
}

/** filesUnder lists the files below `dir` (absolute paths) whose name satisfies `keep`, skipping dot-folders. */
export function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('.')) continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, keep));
    else if (keep(entry)) out.push(p);
  }
  return out.sort();
}

/** rel gives a path relative to the repository, for messages. */
export function rel(p: string): string {
  return relative(repoRoot, p);
}

/** HclBody is hcl2json's JSON form of an HCL body: attributes as values, blocks as arrays (labels as object keys). */
export type HclBody = Record<string, unknown>;

/** parseHcl parses HCL text with hcl2json (the same Go parser Terraform and Nomad use); rejects on a syntax error. */
export async function parseHcl(name: string, text: string): Promise<HclBody> {
  return (await parseHclText(name, text)) as HclBody;
}

/** blocks returns the bodies of an unlabeled block `key` in `body` (hcl2json gives a list), or [] when absent. */
export function blocks(body: HclBody | undefined, key: string): HclBody[] {
  const v = body?.[key];
  return Array.isArray(v) ? (v as HclBody[]) : [];
}

/** labeled returns the bodies of a labeled block `key "label" {}` in `body`, or [] when absent. */
export function labeled(body: HclBody | undefined, key: string, label: string): HclBody[] {
  const v = body?.[key] as Record<string, HclBody[]> | undefined;
  return v && typeof v === 'object' && !Array.isArray(v) ? (v[label] ?? []) : [];
}

/** one returns the single body of an unlabeled block, failing when there is not exactly one. */
export function one(body: HclBody | undefined, key: string): HclBody {
  const all = blocks(body, key);
  if (all.length !== 1) throw new Error(`expected exactly one ${key} block, found ${all.length}`);
  return all[0] as HclBody;
}

/** Rendered maps "<role>/<file name without .j2>" to the rendered text, for one inventory host. */
export type Rendered = Record<string, string>;

/** RenderSecrets are the run-time values (made up per run) that some templates need; no role default holds them. */
export interface RenderSecrets {
  consulGossipKey: string;
  nomadGossipKey: string;
  tokens: Record<string, string>;
  vaultJwtAccessor: string;
}

/**
 * renderRoles renders every template of every role (with the roles' defaults and ansible/group_vars) for the fixture
 * hosts drover-1 (server, client, edge) and worker-1 (client in the builds pool), through Ansible's own template
 * engine (test/infra/fixtures/render.yml). `vars` are extra variables (highest precedence, like `-e`). Returns the
 * rendered text per host and the secrets it used.
 */
export async function renderRoles(vars: Record<string, unknown> = {}): Promise<{ hosts: Record<'drover-1' | 'worker-1', Rendered>; secrets: RenderSecrets; outDir: string }> {
  const outDir = mkdtempSync(join(tmpdir(), 'drover-render-'));
  const rand = (n: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(n))).toString('base64');
  const secrets: RenderSecrets = {
    consulGossipKey: rand(32),
    nomadGossipKey: rand(32),
    vaultJwtAccessor: `auth_jwt_${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString('hex')}`,
    tokens: Object.fromEntries(
      ['consul_agent_token', 'nomad_consul_token', 'drover_nomad_token', 'drover_nomad_mgmt_token', 'drover_consul_token', 'drover_vault_token']
        .map((k) => [k, crypto.randomUUID()]),
    ),
  };
  const extra = {
    out_dir: outDir,
    consul_gossip_key: secrets.consulGossipKey,
    nomad_gossip_key: secrets.nomadGossipKey,
    vault_jwt_accessor: secrets.vaultJwtAccessor,
    vault_ca_pem: '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n',
    nomad_ca_pem: '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n',
    drover_secrets: { postgres_password: rand(24), redis_password: rand(24), s3_secret_key: rand(24), secret_key: rand(48) },
    ...secrets.tokens,
    ...vars,
  };
  const extraFile = join(outDir, 'extra-vars.json');
  writeFileSync(extraFile, JSON.stringify(extra));
  const r = await run(tool('ansible-playbook'), [
    '-i', join(repoRoot, 'test', 'infra', 'fixtures', 'inventory.yml'),
    join(repoRoot, 'test', 'infra', 'fixtures', 'render.yml'),
    '-e', `@${extraFile}`,
    '--tags', 'render',
  ], { env: { ANSIBLE_NOCOLOR: '1', ANSIBLE_LOCAL_TEMP: join(outDir, 'tmp'), ANSIBLE_CONFIG: join(repoRoot, 'ansible', 'ansible.cfg'), ANSIBLE_ROLES_PATH: join(repoRoot, 'ansible', 'roles') } });
  if (r.status !== 0) throw new Error(`rendering the role templates failed:\n${r.stdout}\n${r.stderr}`);
  const read = (h: string) => JSON.parse(readFileSync(join(outDir, `${h}.json`), 'utf8')) as Rendered;
  return { hosts: { 'drover-1': read('drover-1'), 'worker-1': read('worker-1') }, secrets, outDir };
}
