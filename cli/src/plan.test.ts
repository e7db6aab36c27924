// Spawns the real `drover` launcher (bin/drover.mjs → Node 24 → src/main.ts) with argv arrays, for every refusal of
// the "Done when" list and for every example manifest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateNomad } from '@drover/scheduler/contracts/index.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const launcher = join(root, 'cli', 'bin', 'drover.mjs');
const dir = mkdtempSync(join(tmpdir(), 'drover-plan-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function sut(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [launcher, ...args], { encoding: 'utf8', cwd: root });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let n = 0;
function manifest(text: string, ext = 'yaml'): string {
  const f = join(dir, `m${n++}.${ext}`);
  writeFileSync(f, text);
  return f;
}

const web = (extra: string): string => `project: shop\nservices:\n  web:\n    image: ghcr.io/acme/web:1\n    port: 8080\n${extra}`;
const api = (extra: string): string => `project: shop\nservices:\n  api:\n    artifact:\n      url: ${extra.includes('url:') ? '' : 'https://releases.example.com/api.tgz'}\n${extra}`;

const refusals: { name: string; text: string; path: string; reason: RegExp }[] = [
  { name: 'domain with a backtick', text: web('    domains: ["a`b.example.com"]\n'), path: 'services.web.domains[0]', reason: /backtick/ },
  { name: 'domain with a quote', text: web(`    domains: ['a"b.example.com']\n`), path: 'services.web.domains[0]', reason: /quote/ },
  { name: 'domain with a parenthesis', text: web('    domains: ["a(b).example.com"]\n'), path: 'services.web.domains[0]', reason: /parenthesis/ },
  { name: 'domain with ||', text: web('    domains: ["a.example.com||b.example.com"]\n'), path: 'services.web.domains[0]', reason: /\|\|/ },
  { name: 'wildcard domain', text: web('    domains: ["*.example.com"]\n'), path: 'services.web.domains[0]', reason: /wildcard/ },
  { name: 'upper-case domain', text: web('    domains: ["Shop.example.com"]\n'), path: 'services.web.domains[0]', reason: /lower case/ },
  { name: '${…} other than PORT/NOMAD_* in a command', text: web('    command: [sh, "${HOME}/x"]\n'), path: 'services.web.command[1]', reason: /only \$\{PORT\} and \$\{NOMAD_\*\}/ },
  { name: 'unknown key privileged', text: web('    privileged: true\n'), path: 'services.web.privileged', reason: /unknown key/ },
  { name: 'raw docker config', text: web('    config: { cap_add: [SYS_ADMIN] }\n'), path: 'services.web.config', reason: /unknown key/ },
  { name: 'traversing volume name', text: web('    volumes: [{ name: ../etc, mount: /data }]\n'), path: 'services.web.volumes[0].name', reason: /slug, not a path/ },
  { name: 'traversing volume mount', text: web('    volumes: [{ name: data, mount: /data/../../etc }]\n'), path: 'services.web.volumes[0].mount', reason: /"\.\."/ },
  { name: 'volumes with two replicas', text: web('    replicas: 2\n    volumes: [{ name: data, mount: /data }]\n'), path: 'services.web.replicas', reason: /one replica/ },
  { name: 'port on an artifact service', text: api(`      checksum: sha256:${'a'.repeat(64)}\n      command: [./local/api]\n    port: 80\n`), path: 'services.api.port', reason: /takes no port/ },
  { name: 'slug with --', text: 'project: shop\nservices:\n  my--web:\n    image: redis\n', path: 'services.my--web', reason: /--/ },
  { name: 'slug with upper case', text: 'project: Shop\nservices:\n  web:\n    image: redis\n', path: 'project', reason: /lower case/ },
  { name: 'reference cycle', text: 'project: shop\nservices:\n  a:\n    image: redis\n    variables: { X: "${{ b.Y }}" }\n  b:\n    image: redis\n    variables: { Y: "${{ a.X }}" }\n', path: 'services.a.variables.X', reason: /cycle: a\.X → b\.Y → a\.X/ },
  { name: 'unknown reference', text: web('    variables: { X: "${{ nope.URL }}" }\n'), path: 'services.web.variables.X', reason: /unknown reference/ },
  { name: 'unknown variable of a known service', text: web('    variables: { X: "${{ shared.NOPE }}" }\n'), path: 'services.web.variables.X', reason: /unknown reference/ },
  { name: 'invalid cron', text: 'project: shop\nservices:\n  job:\n    image: redis\n    cron: "61 * * * *"\n', path: 'services.job.cron', reason: /minute/ },
  { name: 'cron with four fields', text: 'project: shop\nservices:\n  job:\n    image: redis\n    cron: "0 3 * *"\n', path: 'services.job.cron', reason: /five fields/ },
  { name: 'unknown time zone', text: 'project: shop\nservices:\n  job:\n    image: redis\n    cron: "0 3 * * *"\n    timezone: Mars/Olympus\n', path: 'services.job.timezone', reason: /IANA/ },
  { name: 'both image and artifact', text: web(`    artifact: { url: "https://e.example.com/a", checksum: "sha256:${'a'.repeat(64)}", command: [a] }\n`), path: 'services.web', reason: /exactly one of image or artifact/ },
  ...[
    ['ftp://releases.example.com/api.tgz', /http or https/],
    ['file:///etc/passwd', /http or https/],
    ['http://169.254.169.254/latest/meta-data', /link-local/],
    ['http://127.0.0.1:8500/v1/kv', /loopback/],
    ['http://[::1]/x', /loopback/],
    ['http://localhost/x', /loopback/],
    ['http://metadata.google.internal/computeMetadata/v1', /metadata/],
    ['http://10.1.2.3/x', /private/],
    ['http://[::ffff:169.254.169.254]/x', /link-local/],
  ].map(([url, reason]) => ({
    name: `artifact URL ${String(url)}`,
    text: `project: shop\nservices:\n  api:\n    artifact:\n      url: "${String(url)}"\n      checksum: sha256:${'a'.repeat(64)}\n      command: [./local/api]\n`,
    path: 'services.api.artifact.url', reason: reason as RegExp,
  })),
  { name: 'zero cpu', text: web('    resources: { cpu: 0 }\n'), path: 'services.web.resources.cpu', reason: /positive/ },
  { name: 'negative memory', text: web('    resources: { memory: -512 }\n'), path: 'services.web.resources.memory', reason: /positive/ },
  { name: 'zero replicas', text: web('    replicas: 0\n'), path: 'services.web.replicas', reason: /positive/ },
  { name: 'one domain on two services', text: `${web('    domains: [shop.example.com]\n')}  b:\n    image: redis\n    port: 1\n    domains: [shop.example.com]\n`, path: 'services.b.domains[0]', reason: /already a domain of services\.web/ },
  { name: 'invalid YAML', text: 'project: [shop\n', path: '(document)', reason: /not valid YAML/ },
  { name: 'unknown top-level key', text: 'project: shop\nservice: {}\n', path: 'service', reason: /unknown key/ },
];

for (const c of refusals) {
  test(`drover plan refuses ${c.name}, naming ${c.path}`, () => {
    const f = manifest(c.text);
    const r = sut('plan', '-f', f, '--json');
    assert.notEqual(r.status, 0, r.stdout);
    assert.equal(r.stdout, '', 'prints no jobs');
    const line = r.stderr.split('\n').find((l) => l.startsWith(`${f}: ${c.path}: `));
    assert.ok(line, `expected "${f}: ${c.path}: …" in:\n${r.stderr}`);
    assert.match(line, c.reason);
  });
}

test('drover plan --json prints valid JobRegisterRequest bodies for every example manifest', () => {
  const examples = readdirSync(join(root, 'examples'), { recursive: true, encoding: 'utf8' }).filter((f) => /drover\.(ya?ml|json)$/.test(f));
  assert.ok(examples.length >= 4);
  for (const e of examples) {
    const r = sut('plan', '-f', join(root, 'examples', e), '--json');
    assert.equal(r.status, 0, r.stderr);
    const jobs = JSON.parse(r.stdout) as unknown[];
    assert.ok(jobs.length > 0);
    for (const j of jobs) assert.deepEqual(validateNomad('JobRegisterRequest', j), []);
    assert.ok(!r.stdout.includes('Hello {{ name }}') && !r.stdout.includes('acme-reports'), 'no variable value in the jobs');
  }
});

test('drover plan prints a readable summary; usage errors exit 2', () => {
  const r = sut('plan', '-f', join(root, 'examples', 'shop', 'drover.yaml'));
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^job shop-production-web-[0-9a-f]{8} {2}\(service\)/m);
  assert.match(r.stdout, /6 job\(s\)/);
  assert.match(r.stdout, /^job shop-production-[a-z0-9-]+-[0-9a-f]{8} {2}\(batch, cron "0 3 \* \* \*" Europe\/Berlin\)/m, 'the cron line reads Periodic.Specs');
  assert.equal(sut('plan').status, 2);
  assert.equal(sut('apply').status, 2);
  const missing = sut('plan', '-f', join(dir, 'nope.yaml'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read: ENOENT/);
});
