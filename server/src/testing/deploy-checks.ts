/**
 * What the deployment engine's crash and fault tests share: the two variable modes they run in (Nomad Variables,
 * Vault KV v2 on the loopback KV test server), the Vault-side faults, and the checks over what reached the Nomad
 * double and the KV server — no deployment registered twice, and every registered job reads exactly the values of
 * the deployment that registered it (the KV version its template pins, or its items in the job's Nomad variable).
 * Used only by tests.
 */
import type { DataSource } from 'typeorm';
import type { NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { openValues } from '../deployments/build.ts';
import type { KvFaults, KvTestServer } from '../secrets/kv-test-server.ts';

/** VariablesMode is where deployments write their variable values: Nomad Variables, or a new Vault KV v2 version. */
export type VariablesMode = 'nomad-variables' | 'vault';

/** VARIABLES_MODES lists both modes, for suites parametrised over them. */
export const VARIABLES_MODES: readonly VariablesMode[] = ['nomad-variables', 'vault'];

/**
 * KV_FAULTS are the Vault-side faults of the crash and fault tests: 20% of the KV requests for job values (the
 * engine's metadata reads, `max_versions` writes and version writes) fail — 503s, a sealed Vault's 503, slow answers,
 * writes applied whose answer is lost, and requests that time out past the adapter's 10 s.
 */
export const KV_FAULTS: KvFaults = {
  errorRate: 0.06, sealedRate: 0.04, slowRate: 0.04, slowMs: 1_500, dropRate: 0.04, timeoutRate: 0.02, timeoutMs: 11_000, pathPrefix: 'drover/t-', seed: 11,
};

/** modeEnv is the configuration of a mode: VAULT_ADDR and VAULT_TOKEN of the KV server in Vault mode, nothing otherwise. */
export function modeEnv(mode: VariablesMode, kv: KvTestServer | undefined): Record<string, string> {
  if (mode === 'nomad-variables') return {};
  if (!kv) throw new Error('Vault mode needs the KV test server');
  return { VAULT_ADDR: kv.url, VAULT_TOKEN: kv.token };
}

type JobBody = { ID?: string; Namespace?: string; Meta?: Record<string, string>; TaskGroups?: { Tasks?: { Templates?: { EmbeddedTmpl?: string }[] }[] }[] };

/** Registration is one EnforceIndex registration the double applied: answered 200, or applied with its answer lost. */
export interface Registration {
  /** deploymentId is the job's `drover.deployment` Meta. */
  deploymentId: string;
  /** job is the registered job. */
  job: JobBody;
  /** answered is false when the answer never reached the caller (connection reset, or the caller was killed). */
  answered: boolean;
}

/**
 * registrations lists the EnforceIndex registrations that reached the double and were applied. A request whose
 * answer was never sent (status 0: the double dropped it, or the caller died waiting) was applied too: the double
 * answers only after applying, and refusals (409/500 conflicts, 5xx faults) are sent.
 */
export function registrations(nomad: NomadDouble): Registration[] {
  const out: Registration[] = [];
  for (const c of nomad.control.requests()) {
    const b = c.body as { EnforceIndex?: boolean; Job?: JobBody } | null;
    if (c.method !== 'PUT' || c.path !== '/v1/jobs' || !b?.EnforceIndex || !b.Job || (c.status !== 200 && c.status !== 0)) continue;
    out.push({ deploymentId: b.Job.Meta?.['drover.deployment'] ?? '', job: b.Job, answered: c.status === 200 });
  }
  return out;
}

/** registeredTwice returns `<deployment ID> ×<n>` for every deployment registered more than once. */
export function registeredTwice(nomad: NomadDouble): string[] {
  const n = new Map<string, number>();
  for (const r of registrations(nomad)) n.set(r.deploymentId, (n.get(r.deploymentId) ?? 0) + 1);
  return [...n].filter(([, k]) => k > 1).map(([id, k]) => `${id} ×${k}`);
}

/** pinnedVersions returns the `<path under the mount>?version=<n>` reads of a job's templates. */
function pinnedVersions(job: JobBody, mount: string): { path: string; version: number }[] {
  const text = (job.TaskGroups ?? []).flatMap((g) => (g.Tasks ?? []).flatMap((t) => (t.Templates ?? []).map((x) => x.EmbeddedTmpl ?? ''))).join('\n');
  return [...text.matchAll(new RegExp(`with secret "${mount}/data/([^"?]+)\\?version=([0-9]+)"`, 'g'))].map((m) => ({ path: m[1] ?? '', version: Number(m[2]) }));
}

/** sealedValuesOf opens the values each deployment sealed at creation (what its job must read). */
async function sealedValuesOf(db: DataSource, secretKey: Buffer, ids: string[]): Promise<Map<string, { values: Record<string, string>; pinned: number | null; variablesPath: string | null }>> {
  const rows = (await db.query(
    `SELECT id, sealed_values AS sealed, variables_path AS "variablesPath", (progress->'variables'->>'vaultVersion')::int AS pinned FROM deployments WHERE id = ANY($1)`, [ids],
  )) as { id: string; sealed: string | null; variablesPath: string | null; pinned: number | null }[];
  return new Map(rows.map((r) => [r.id, { values: r.sealed ? openValues(secretKey, r.sealed, r.id) : {}, pinned: r.pinned, variablesPath: r.variablesPath }]));
}

const same = (a: Record<string, string> | null | undefined, b: Record<string, string>): boolean =>
  a !== null && a !== undefined && JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * vaultPinProblems checks every registration of a Vault-mode deployment: its templates pin one KV version, that
 * version (read back from the KV server) holds exactly the deployment's sealed values, and the deployment's record
 * pins the same version. Returns one line per problem (empty = all good).
 */
export async function vaultPinProblems(o: { nomad: NomadDouble; kv: KvTestServer; db: DataSource; secretKey: Buffer; mount?: string }): Promise<string[]> {
  const mount = o.mount ?? 'secret';
  const regs = registrations(o.nomad);
  const expected = await sealedValuesOf(o.db, o.secretKey, [...new Set(regs.map((r) => r.deploymentId))]);
  const problems: string[] = [];
  for (const r of regs) {
    const want = expected.get(r.deploymentId);
    if (!want) {
      problems.push(`${r.deploymentId}: registered, but no such deployment`);
      continue;
    }
    const pins = pinnedVersions(r.job, mount);
    if (Object.keys(want.values).length === 0) {
      if (pins.length > 0) problems.push(`${r.deploymentId}: reads Vault without values`);
      continue;
    }
    const versions = new Set(pins.map((p) => `${p.path}?version=${p.version}`));
    if (versions.size !== 1) {
      problems.push(`${r.deploymentId}: its job pins ${versions.size} KV versions (${[...versions].join(', ')})`);
      continue;
    }
    const pin = pins[0] ?? { path: '', version: 0 };
    const held = o.kv.data.get(pin.path)?.[pin.version - 1];
    if (!same(held, want.values)) {
      problems.push(`${r.deploymentId}: its job pins version ${pin.version} of ${pin.path}, which holds ${held ? `the items ${Object.keys(held).sort().join(',')}` : 'nothing'}, not its own values`);
    }
    if (want.pinned !== pin.version) problems.push(`${r.deploymentId}: registered pinning version ${pin.version}, but its record says ${want.pinned ?? 'none'}`);
  }
  return problems;
}

/**
 * liveValueProblems checks each live job of the double that a Drover deployment registered (`jobs` as namespace
 * and job ID): what its templates read — the pinned KV version in Vault mode, its items in the job's Nomad variable
 * otherwise — holds exactly that deployment's sealed values. Returns one line per problem.
 */
export async function liveValueProblems(o: { mode: VariablesMode; nomad: NomadDouble; kv: KvTestServer | undefined; db: DataSource; secretKey: Buffer; jobs: { namespace: string; jobId: string }[]; mount?: string }): Promise<string[]> {
  const live = o.jobs.map((j) => ({ ...j, job: o.nomad.control.job(j.jobId, j.namespace) as JobBody | undefined }));
  const ids = live.flatMap((l) => (l.job?.Meta?.['drover.deployment'] ? [l.job.Meta['drover.deployment']] : []));
  const expected = await sealedValuesOf(o.db, o.secretKey, ids);
  const problems: string[] = [];
  for (const l of live) {
    const id = l.job?.Meta?.['drover.deployment'];
    const want = id ? expected.get(id) : undefined;
    if (!l.job || !id || !want) {
      problems.push(`${l.namespace}/${l.jobId}: no live job of a known deployment`);
      continue;
    }
    if (o.mode === 'vault') {
      const pin = pinnedVersions(l.job, o.mount ?? 'secret')[0];
      if (!same(pin ? o.kv?.data.get(pin.path)?.[pin.version - 1] : undefined, want.values)) problems.push(`${l.jobId}: the live job of ${id} does not read its values from Vault`);
    } else {
      const v = o.nomad.control.state.vars.get(`${l.namespace}\u0000${want.variablesPath ?? ''}`) as { Items?: Record<string, string> } | undefined;
      const mine = Object.fromEntries(Object.entries(v?.Items ?? {}).filter(([k]) => k.startsWith(`${id}.`)));
      if (!same(mine, want.values)) problems.push(`${l.jobId}: the live job of ${id} does not find its items in ${want.variablesPath ?? '?'}`);
    }
  }
  return problems;
}

/**
 * kvWritesPerDeployment counts the KV versions each deployment wrote (its item keys are prefixed with its ID): the
 * writes the server applied, including those whose answer was lost.
 */
export function kvWritesPerDeployment(kv: KvTestServer): Map<string, number> {
  const n = new Map<string, number>();
  for (const r of kv.requests) {
    if (r.method !== 'POST' || !/\/data\/drover\/t-/.test(r.path) || r.fault === 'error' || r.fault === 'sealed') continue;
    const key = Object.keys((r.body as { data?: Record<string, string> } | undefined)?.data ?? {})[0] ?? '';
    const id = key.split('.')[0] ?? '';
    n.set(id, (n.get(id) ?? 0) + 1);
  }
  return n;
}
