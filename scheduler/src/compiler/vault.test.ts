// Vault contract: every Vault path the compiled templates read (and the deployer writes, JobData.path) is a path
// and method of Vault's OpenAPI document. The `version` query parameter that pins a KV v2 read is part of Vault's
// KV v2 API (GET /:mount/data/:path?version=N) but missing from the generated document, so it is checked by form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readContract } from '../contracts/index.ts';
import { compile } from './index.ts';
import { variants } from './variants.ts';

const openapi = readContract('vault-openapi.json') as { paths: Record<string, Record<string, unknown>> };

/** sut finds the OpenAPI path template that matches a concrete path whose mount is `mount`. */
function sut(path: string, mount: string): string | undefined {
  return Object.keys(openapi.paths).find((tpl) => {
    if (!tpl.startsWith('/{')) return false;
    const rest = tpl.slice(tpl.indexOf('}') + 1);
    const re = new RegExp(`^${rest.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '.+')}$`);
    return path.startsWith(`${mount}/`) && re.test(path.slice(mount.length)) && (tpl.includes('kv_v2') || tpl.includes('kv_mount'));
  });
}

test('every secret path the templates read is a KV v2 read (GET) in the Vault OpenAPI, pinned to a version', () => {
  const v = variants().find((x) => x.state.settings.secrets.kind === 'vault');
  assert.ok(v && v.state.settings.secrets.kind === 'vault');
  const mount = v.state.settings.secrets.kvMount;
  const r = compile(v.state);
  let n = 0;
  for (const job of r.jobs) {
    for (const t of job.Job.TaskGroups[0]?.Tasks[0]?.Templates ?? []) {
      for (const m of t.EmbeddedTmpl.matchAll(/secret "([^"]+)"/g)) {
        const [path, query] = (m[1] ?? '').split('?');
        assert.equal(query, `version=${v.state.deployment.vaultKvVersion}`);
        const tpl = sut(path ?? '', mount);
        assert.ok(tpl, `no OpenAPI path for ${path}`);
        assert.ok(openapi.paths[tpl]?.get, `${tpl} has no GET`);
        assert.equal(path, r.variables[job.Job.ID]?.path);
        n++;
      }
    }
    const data = r.variables[job.Job.ID];
    if (data) {
      const tpl = sut(data.path, mount);
      assert.ok(tpl && openapi.paths[tpl]?.post, `the deployer cannot write ${data.path}`);
      assert.match(data.path, new RegExp(`^${mount}/data/drover/${job.Namespace}/${job.Job.ID}$`));
    }
  }
  assert.ok(n > 0);
  assert.equal(sut('kv/metadata-nope/x', mount), undefined, 'a path Vault does not have is not matched');
});
