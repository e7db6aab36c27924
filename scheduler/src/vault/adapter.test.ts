import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { Ajv } from 'ajv';
import { VaultAdapter } from './adapter.ts';
import { VaultConfigError, vaultConfigFromEnv } from './config.ts';
import {
  VaultCasMismatchError, VaultPathError, VaultPermissionDeniedError, VaultSealedError, VaultUnreachableError,
} from './errors.ts';
import { readContract } from '../contracts/index.ts';
import { sendJson, startTestServer } from '../nomad/test-server.ts';
import type { RecordedRequest, TestServer } from '../nomad/test-server.ts';

const token = 'hvs.drover-test-token';
const ns = 't-acme-0a1b2c3d';
const job = 'shop-prod-web-0a1b2c3d';

interface Version { data: Record<string, string> | null; created: string; deleted: string; destroyed: boolean }

/** fakeVault answers like Vault's KV v2 engine mounted at `secret/`, plus sys/health, seal-status and token self. */
function fakeVault(state: { sealed: boolean; maxVersions: Map<string, number>; kv: Map<string, Version[]> }) {
  const errors = (res: ServerResponse, status: number, ...msgs: string[]) => sendJson(res, status, { errors: msgs });
  return (req: RecordedRequest, res: ServerResponse): void => {
    if (req.path === '/v1/sys/health') return sendJson(res, state.sealed ? 503 : 200, { initialized: true, sealed: state.sealed, standby: false, version: '1.18.0', cluster_name: 'vault-1' });
    if (req.path === '/v1/sys/seal-status') return sendJson(res, 200, { sealed: state.sealed, t: 3, n: 5, progress: 0, version: '1.18.0' });
    if (state.sealed) return errors(res, 503, 'Vault is sealed');
    if (req.headers['x-vault-token'] !== token) return errors(res, 403, 'permission denied');
    if (req.path === '/v1/auth/token/lookup-self') return sendJson(res, 200, { data: { accessor: 'acc-1', policies: ['default', 'drover'], ttl: 3600, renewable: true, expire_time: '2030-01-01T00:00:00Z', id: token } });
    if (req.path === '/v1/auth/token/renew-self') return sendJson(res, 200, { auth: { client_token: token, lease_duration: 7200, renewable: true, policies: ['default', 'drover'] } });
    const m = /^\/v1\/secret\/(data|metadata|delete|destroy)\/(.+?)(\/?)$/.exec(req.path);
    if (!m) return errors(res, 404);
    const [, kind, path, slash] = m as unknown as [string, string, string, string];
    const versions = state.kv.get(path) ?? [];
    const now = new Date(0).toISOString();
    const meta = (i: number) => ({ version: i + 1, created_time: versions[i]?.created ?? now, deletion_time: versions[i]?.deleted ?? '', destroyed: versions[i]?.destroyed ?? false, custom_metadata: null });
    if (kind === 'metadata' && slash === '/' && req.query.get('list') === 'true') {
      const keys = [...state.kv.keys()].filter((k) => k.startsWith(`${path}/`)).map((k) => k.slice(path.length + 1));
      return keys.length ? sendJson(res, 200, { data: { keys } }) : errors(res, 404);
    }
    if (kind === 'data' && req.method === 'GET') {
      const v = req.query.has('version') ? Number(req.query.get('version')) - 1 : versions.length - 1;
      const ver = versions[v];
      if (!ver) return errors(res, 404);
      if (ver.data === null) return sendJson(res, 404, { data: { data: null, metadata: meta(v) } });
      return sendJson(res, 200, { data: { data: ver.data, metadata: meta(v) } });
    }
    if (kind === 'data' && req.method === 'POST') {
      const body = req.json as { data: Record<string, string>; options?: { cas?: number } };
      if (body.options?.cas !== undefined && body.options.cas !== versions.length) return errors(res, 400, `check-and-set parameter did not match the current version`);
      versions.push({ data: body.data, created: now, deleted: '', destroyed: false });
      const max = state.maxVersions.get(path) ?? 10;
      while (versions.filter((x) => !x.destroyed).length > max) (versions.find((x) => !x.destroyed) as Version).destroyed = true;
      state.kv.set(path, versions);
      return sendJson(res, 200, { data: meta(versions.length - 1) });
    }
    if (kind === 'data' && req.method === 'DELETE') {
      const last = versions.at(-1);
      if (last) {
        last.data = null;
        last.deleted = now;
      }
      res.writeHead(204).end();
      return;
    }
    if ((kind === 'delete' || kind === 'destroy') && req.method === 'POST') {
      for (const v of (req.json as { versions: number[] }).versions) {
        const ver = versions[v - 1];
        if (!ver) continue;
        ver.data = null;
        if (kind === 'destroy') ver.destroyed = true;
        else ver.deleted = now;
      }
      res.writeHead(204).end();
      return;
    }
    if (kind === 'metadata' && req.method === 'GET') {
      if (versions.length === 0) return errors(res, 404);
      return sendJson(res, 200, { data: { current_version: versions.length, oldest_version: 1, max_versions: state.maxVersions.get(path) ?? 0, cas_required: false, versions: Object.fromEntries(versions.map((_, i) => [String(i + 1), meta(i)])) } });
    }
    if (kind === 'metadata' && req.method === 'POST') {
      state.maxVersions.set(path, (req.json as { max_versions: number }).max_versions);
      res.writeHead(204).end();
      return;
    }
    if (kind === 'metadata' && req.method === 'DELETE') {
      state.kv.delete(path);
      res.writeHead(204).end();
      return;
    }
    errors(res, 405);
  };
}

async function withVault(): Promise<{ server: TestServer; sut: VaultAdapter; state: Parameters<typeof fakeVault>[0] }> {
  const state = { sealed: false, maxVersions: new Map<string, number>(), kv: new Map<string, Version[]>() };
  const server = await startTestServer(fakeVault(state));
  const sut = new VaultAdapter(vaultConfigFromEnv({ VAULT_ADDR: server.url, VAULT_TOKEN: token }, { timeoutMs: 2000 }));
  after(async () => {
    await sut.close();
    await server.close();
  });
  return { server, sut, state };
}

/** exercise calls every method of the adapter that reaches Vault once, so the contract test sees them all. */
async function exercise(sut: VaultAdapter): Promise<void> {
  await sut.writeSecret(ns, job, { A: '1' }, { cas: 0 });
  await sut.readSecret(ns, job);
  await sut.readSecret(ns, job, { version: 1 });
  await sut.listSecrets(ns);
  await sut.readMetadata(ns, job);
  await sut.setMaxVersions(ns, job, 5);
  await sut.deleteVersions(ns, job, [1]);
  await sut.destroyVersions(ns, job, [1]);
  await sut.deleteLatest(ns, job);
  await sut.destroyAll(ns, job);
  await sut.health();
  await sut.sealStatus();
  await sut.lookupSelf();
  await sut.renewSelf('1h');
}

describe('KV v2 under drover/<namespace>/<jobId>', () => {
  test('write, read (latest and a version), metadata, max versions, delete, destroy', async () => {
    const { server, sut } = await withVault();
    const v1 = await sut.writeSecret(ns, job, { DATABASE_URL: 'postgres://u:p@h/db', WEIRD: '{{ env "X" }}${attr.unique.hostname}\n' }, { cas: 0 });
    assert.equal(v1.version, 1);
    const v2 = await sut.writeSecret(ns, job, { DATABASE_URL: 'postgres://u:q@h/db' }, { cas: 1 });
    assert.equal(v2.version, 2);
    assert.deepEqual((await sut.readSecret(ns, job))?.data, { DATABASE_URL: 'postgres://u:q@h/db' });
    assert.deepEqual((await sut.readSecret(ns, job, { version: 1 }))?.data, { DATABASE_URL: 'postgres://u:p@h/db', WEIRD: '{{ env "X" }}${attr.unique.hostname}\n' });
    assert.equal(server.requests.at(-1)?.query.get('version'), '1');
    const meta = await sut.readMetadata(ns, job);
    assert.equal(meta?.currentVersion, 2);
    assert.deepEqual(Object.keys(meta?.versions ?? {}), ['1', '2']);
    await sut.setMaxVersions(ns, job, 1);
    assert.deepEqual(server.requests.at(-1)?.json, { max_versions: 1 });
    await sut.deleteVersions(ns, job, [2]);
    assert.equal(await sut.readSecret(ns, job), null, 'a deleted version reads as null');
    await sut.destroyVersions(ns, job, [1]);
    assert.equal(await sut.readSecret(ns, job, { version: 1 }), null);
    assert.deepEqual(await sut.listSecrets(ns), [job]);
    await sut.destroyAll(ns, job);
    assert.equal(await sut.readMetadata(ns, job), null);
    assert.deepEqual(await sut.listSecrets(ns), []);
    assert.ok(server.requests.every((r) => r.headers['x-vault-token'] === token));
    assert.ok(server.requests.filter((r) => r.path.startsWith('/v1/secret/')).every((r) => r.path.includes(`/drover/${ns}`)));
  });

  test('a lost check-and-set race is VaultCasMismatchError', async () => {
    const { sut } = await withVault();
    await sut.writeSecret(ns, job, { A: '1' }, { cas: 0 });
    await assert.rejects(sut.writeSecret(ns, job, { A: '2' }, { cas: 0 }), (e: unknown) => e instanceof VaultCasMismatchError && e.cas === 0);
  });

  test('paths are built from validated segments only; nothing is sent for a bad one', async () => {
    const { server, sut } = await withVault();
    for (const [nsx, jobx] of [['../sys', job], [ns, '../../sys/raw'], [ns, 'Job'], ['', job], [ns, 'a/b'], [ns, 'x?list=true']]) {
      await assert.rejects(async () => sut.readSecret(nsx as string, jobx as string), VaultPathError);
      await assert.rejects(async () => sut.writeSecret(nsx as string, jobx as string, { A: '1' }), VaultPathError);
    }
    await assert.rejects(async () => sut.listSecrets('../x'), VaultPathError);
    await assert.rejects(async () => sut.writeSecret(ns, job, { A: 1 as unknown as string }), TypeError);
    await assert.rejects(async () => sut.destroyVersions(ns, job, []), RangeError);
    assert.equal(server.requests.length, 0);
  });
});

describe('health, seal, token', () => {
  test('health and seal status; a sealed Vault fails KV calls with VaultSealedError', async () => {
    const { sut, state } = await withVault();
    assert.deepEqual(await sut.health(), { initialized: true, sealed: false, standby: false, version: '1.18.0', clusterName: 'vault-1' });
    await sut.assertUnsealed();
    state.sealed = true;
    assert.equal((await sut.health()).sealed, true);
    assert.deepEqual(await sut.sealStatus(), { sealed: true, threshold: 3, shares: 5, progress: 0, version: '1.18.0' });
    await assert.rejects(sut.assertUnsealed(), VaultSealedError);
    await assert.rejects(sut.readSecret(ns, job), (e: unknown) => e instanceof VaultSealedError && e.code === 'vault/sealed');
    await assert.rejects(sut.writeSecret(ns, job, { A: '1' }), VaultSealedError);
  });

  test('token lookup-self and renew-self; lookup never returns the token itself', async () => {
    const { server, sut } = await withVault();
    const info = await sut.lookupSelf();
    assert.deepEqual(info, { accessor: 'acc-1', policies: ['default', 'drover'], ttlSeconds: 3600, renewable: true, expireTime: '2030-01-01T00:00:00Z' });
    assert.ok(!JSON.stringify(info).includes(token));
    assert.deepEqual(await sut.renewSelf('1h'), { leaseDurationSeconds: 7200, renewable: true, policies: ['default', 'drover'] });
    assert.deepEqual(server.requests.at(-1)?.json, { increment: '1h' });
  });

  test('a wrong token is VaultPermissionDeniedError; unreachable, reset, slow and 5xx Vault are VaultUnreachableError', async () => {
    const { server } = await withVault();
    const wrong = new VaultAdapter({ address: server.url, token: 'nope', kvMount: 'secret' });
    await assert.rejects(wrong.readSecret(ns, job), VaultPermissionDeniedError);
    await wrong.close();

    const dead = await startTestServer(() => undefined);
    const url = dead.url;
    await dead.close();
    const refused = new VaultAdapter({ address: url, token, kvMount: 'secret' });
    await assert.rejects(refused.readSecret(ns, job), (e: unknown) => e instanceof VaultUnreachableError && e.status === undefined);
    await assert.rejects(refused.health(), VaultUnreachableError);
    await refused.close();

    const flaky = await startTestServer((req, res) => (req.path.includes('/data/') ? void req.socket.destroy() : sendJson(res, 500, { errors: ['internal error'] })));
    const sut = new VaultAdapter({ address: flaky.url, token, kvMount: 'secret', timeoutMs: 300 });
    await assert.rejects(sut.readSecret(ns, job), VaultUnreachableError);
    await assert.rejects(sut.readMetadata(ns, job), (e: unknown) => e instanceof VaultUnreachableError && e.status === 500);
    await sut.close();
    await flaky.close();

    const hang = await startTestServer(() => undefined);
    const slow = new VaultAdapter({ address: hang.url, token, kvMount: 'secret', timeoutMs: 150 });
    await assert.rejects(slow.readSecret(ns, job), VaultUnreachableError);
    await slow.close();
    await hang.close();
  });
});

describe('config', () => {
  test('vaultConfigFromEnv reads the HashiCorp names; explicit options win; bad values name the variable', () => {
    const pems: Record<string, string> = { '/ca': 'CA' };
    assert.deepEqual(vaultConfigFromEnv({ VAULT_ADDR: 'https://vault:8200', VAULT_TOKEN: 't', VAULT_NAMESPACE: 'admin', VAULT_CACERT: '/ca', VAULT_TLS_SERVER_NAME: 'vault.service', VAULT_SKIP_VERIFY: 'false' }, { kvMount: 'kv' }, (p) => pems[p] ?? ''),
      { address: 'https://vault:8200', token: 't', namespace: 'admin', kvMount: 'kv', tls: { ca: 'CA', serverName: 'vault.service', skipVerify: false } });
    assert.deepEqual(vaultConfigFromEnv({}), { address: 'https://127.0.0.1:8200', kvMount: 'secret' });
    assert.equal(vaultConfigFromEnv({ VAULT_TOKEN: 'a' }, { token: 'b' }).token, 'b');
    for (const [env, o, variable] of [[{ VAULT_ADDR: 'vault:8200' }, {}, 'VAULT_ADDR'], [{ VAULT_ADDR: 'http://v/x' }, {}, 'VAULT_ADDR'], [{}, { kvMount: '../sys' }, 'kvMount'], [{ VAULT_SKIP_VERIFY: 'sure' }, {}, 'VAULT_SKIP_VERIFY'], [{ VAULT_CLIENT_KEY: '/ca' }, {}, 'VAULT_CLIENT_CERT']] as const) {
      assert.throws(() => vaultConfigFromEnv(env, o, (p) => pems[p] ?? ''), (e: unknown) => e instanceof VaultConfigError && e.variable === variable, JSON.stringify(env));
    }
  });
});

describe('contract: vault-openapi.json', () => {
  interface Operation { operationId?: string; parameters?: Array<{ name: string; in: string; required?: boolean; schema?: { enum?: string[] } }>; requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } }
  const spec = readContract('vault-openapi.json') as { paths: Record<string, Record<string, Operation | unknown>>; components: { schemas: Record<string, { properties?: Record<string, unknown> }> } };
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  for (const [name, schema] of Object.entries(spec.components.schemas)) ajv.addSchema(schema, `#/components/schemas/${name}`);

  /** expected operation of each adapter call, by the OpenAPI template it must match (the mount is a parameter). */
  const expected: Record<string, string> = {
    'GET /{kv_v2_mount_path}/data/{path}': 'kv-v2-read',
    'POST /{kv_v2_mount_path}/data/{path}': 'kv-v2-write',
    'DELETE /{kv_v2_mount_path}/data/{path}': 'kv-v2-delete',
    'GET /{kv_v2_mount_path}/metadata/{path}/': 'kv-v2-list',
    'GET /{kv_v2_mount_path}/metadata/{path}': 'kv-v2-read-metadata',
    'POST /{kv_v2_mount_path}/metadata/{path}': 'kv-v2-write-metadata',
    'DELETE /{kv_v2_mount_path}/metadata/{path}': 'kv-v2-delete-metadata-and-all-versions',
    'POST /{kv_v2_mount_path}/delete/{path}': 'kv-v2-delete-versions',
    'POST /{kv_v2_mount_path}/destroy/{path}': 'kv-v2-destroy-versions',
    'GET /sys/health': 'read-health-status',
    'GET /sys/seal-status': 'seal-status',
    'GET /auth/token/lookup-self': 'token-look-up-self',
    'POST /auth/token/renew-self': 'token-renew-self',
  };

  function matchTemplate(template: string, path: string): boolean {
    const re = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{kv_v2_mount_path\}/, 'secret').replace(/\{path\}/g, '.+')}$`);
    return re.test(path);
  }

  test('every Vault path and method the adapter calls is documented, with a body of the documented shape', async () => {
    const { server, sut } = await withVault();
    await exercise(sut);
    const seen = new Set<string>();
    for (const req of server.requests) {
      const path = req.path.replace(/^\/v1/, '');
      const isList = req.query.get('list') === 'true';
      const candidates = Object.keys(expected).filter((k) => {
        const [method, template] = k.split(' ') as [string, string];
        return method === req.method && matchTemplate(template, path) && template.endsWith('/') === isList;
      });
      assert.equal(candidates.length, 1, `${req.method} ${path}: ${candidates.join(', ') || 'no documented operation'}`);
      const key = candidates[0] as string;
      const [method, template] = key.split(' ') as [string, string];
      const op = spec.paths[template]?.[method.toLowerCase()] as Operation | undefined;
      assert.ok(op, `${key} exists in vault-openapi.json`);
      assert.equal(op.operationId, expected[key]);
      seen.add(key);
      for (const p of op.parameters ?? []) {
        if (p.in === 'query' && p.required) {
          assert.ok(req.query.has(p.name), `${key} requires ?${p.name}`);
          if (p.schema?.enum) assert.ok(p.schema.enum.includes(req.query.get(p.name) ?? ''), `${key} ?${p.name} in ${p.schema.enum.join(',')}`);
        }
      }
      const ref = op.requestBody?.content?.['application/json']?.schema?.$ref;
      if (ref) {
        const v = ajv.getSchema(ref);
        assert.ok(v, ref);
        assert.ok(v(req.json ?? {}), `${key} body: ${JSON.stringify(v.errors)}`);
        const props = Object.keys(spec.components.schemas[ref.split('/').at(-1) as string]?.properties ?? {});
        for (const k of Object.keys((req.json ?? {}) as object)) assert.ok(props.includes(k), `${key} body key "${k}" is documented (${props.join(', ')})`);
      } else {
        assert.equal(req.text, '', `${key} takes no body`);
      }
      for (const q of req.query.keys()) {
        const documented = (op.parameters ?? []).some((p) => p.in === 'query' && p.name === q)
          // KV v2 documents `version` in the data path's schema: "If provided during a read, the value at the version number will be returned".
          || (q === 'version' && method === 'GET' && template.endsWith('/data/{path}') && 'version' in (spec.components.schemas.KvV2WriteRequest?.properties ?? {}));
        assert.ok(documented, `${key} ?${q} is documented`);
      }
    }
    assert.deepEqual([...seen].sort(), Object.keys(expected).sort(), 'every adapter call was exercised');
  });
});
