// Traefik contract: each service's `traefik.*` tags, turned into the nested dynamic configuration the Consul Catalog
// provider builds (contracts README), validate against traefik-v3-file-provider.json; what the schema cannot say is
// asserted separately (enable + managed tags, routers' services defined in the same tags, strict rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { readContract } from '../contracts/index.ts';
import { compile } from './index.ts';
import { variants } from './variants.ts';
import { hostnameProblem } from './rules.ts';
import * as sut from './traefik.ts';

type Schema = Record<string, unknown>;
const schema = readContract('traefik-v3-file-provider.json');
const defs = schema.definitions as Record<string, Schema>;
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(schema);

function deref(s: Schema): Schema {
  const ref = s.$ref;
  return typeof ref === 'string' ? deref(defs[ref.replace('#/definitions/', '')] ?? {}) : s;
}

/** child finds the schema of `seg` under `s`, matching property names case-insensitively as Traefik does. */
function child(s: Schema, seg: string): { name: string; schema: Schema } | undefined {
  const d = deref(s);
  const branches = [d, ...((d.oneOf ?? d.anyOf ?? []) as Schema[]).map(deref)];
  for (const b of branches) {
    const props = (b.properties ?? {}) as Record<string, Schema>;
    const hit = Object.keys(props).find((k) => k.toLowerCase() === seg.toLowerCase());
    if (hit) return { name: hit, schema: props[hit] ?? {} };
  }
  if (typeof d.additionalProperties === 'object') return { name: seg, schema: d.additionalProperties as Schema };
  return undefined;
}

function coerce(s: Schema, v: string): unknown {
  const d = deref(s);
  if (d.type === 'boolean') return v === 'true' ? true : v === 'false' ? false : v;
  if (d.type === 'integer' || d.type === 'number') return Number(v);
  if (d.type === 'array') return v.split(',');
  if (d.type === 'object' && v === 'true') return {};
  return v;
}

/** toDynamicConfig does what the Consul Catalog provider does with a service's tags (see the contracts README). */
function toDynamicConfig(tags: string[], catalogService: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const tag of tags) {
    if (!tag.startsWith('traefik.')) continue;
    const eq = tag.indexOf('=');
    const key = tag.slice(0, eq);
    const value = tag.slice(eq + 1);
    if (key === 'traefik.enable' || key.startsWith('traefik.consulcatalog.')) continue;
    let s: Schema = schema;
    let node = root;
    const segs = key.split('.').slice(1);
    segs.forEach((seg, i) => {
      const c = child(s, seg);
      assert.ok(c, `unknown key ${seg} in ${tag}`);
      if (i === segs.length - 1) node[c.name] = coerce(c.schema, value);
      else node = (node[c.name] ??= {}) as Record<string, unknown>;
      s = c.schema;
    });
  }
  const http = (root.http ?? {}) as { routers?: Record<string, Record<string, unknown>>; services?: Record<string, Record<string, Record<string, unknown>>> };
  for (const r of Object.values(http.routers ?? {})) r.service ??= catalogService;
  for (const svc of Object.values(http.services ?? {})) if (svc.loadBalancer) svc.loadBalancer.servers = [{ url: 'http://10.0.0.7:27315' }];
  return root;
}

const RULE = /^(?:\()?(Host\(`[a-z0-9.-]+`\))(?: \|\| Host\(`[a-z0-9.-]+`\))*(?:\))?(?: && Header\(`X-Drover-Canary`, `true`\))?$/;

function assertSemantics(tags: string[], settings: { entrypoints: string[] }): void {
  assert.ok(tags.includes('traefik.enable=true'), 'traefik.enable=true');
  assert.ok(tags.includes(sut.MANAGED_TAG), 'drover.managed=true');
  const cfg = toDynamicConfig(tags, 'x') as { http: { routers: Record<string, { rule: string; service: string; entryPoints: string[] }>; services: Record<string, unknown> } };
  for (const [name, r] of Object.entries(cfg.http.routers)) {
    assert.match(name, /^d-[a-z0-9-]+$/, 'router names come from IDs');
    assert.ok(cfg.http.services[r.service], `router ${name} uses service ${r.service} defined in the same tags`);
    assert.match(r.rule, RULE);
    for (const h of r.rule.matchAll(/Host\(`([^`]*)`\)/g)) assert.equal(hostnameProblem(h[1] ?? ''), undefined);
    for (const e of r.entryPoints) assert.ok(settings.entrypoints.includes(e));
  }
  assert.ok(!tags.some((t) => /loadbalancer\.server\.port/i.test(t)), 'no load-balancer port for dynamic ports');
}

test('every routed service\'s tags and canary tags become a valid Traefik v3 dynamic configuration', () => {
  let routed = 0;
  for (const v of variants()) {
    for (const job of compile(v.state).jobs) {
      for (const svc of job.Job.TaskGroups[0]?.Services ?? []) {
        for (const tags of [svc.Tags, svc.CanaryTags]) {
          if (!tags.some((t) => t.startsWith('traefik.'))) {
            assert.deepEqual(tags, [sut.MANAGED_TAG]);
            continue;
          }
          const cfg = toDynamicConfig(tags, svc.Name);
          assert.ok(validate(cfg), `${job.Job.ID}: ${JSON.stringify(validate.errors)}`);
          assertSemantics(tags, v.state.settings.traefik);
          routed++;
        }
      }
    }
  }
  assert.ok(routed >= 8);
});

test('the converter catches a misspelt key and the schema a wrong value (the test can fail)', () => {
  assert.throws(() => toDynamicConfig(['traefik.http.routers.r.rulez=Host(`a.b`)'], 'x'), /unknown key rulez/);
  const bad = toDynamicConfig(['traefik.http.routers.r.priority=-3', 'traefik.http.routers.r.service=s', 'traefik.http.services.s.loadbalancer.passhostheader=true'], 'x');
  assert.equal(validate(bad), false);
});

test('traefikTags: private services get only the managed tag; several hosts join with ||', () => {
  assert.deepEqual(sut.traefikTags('abc', [], { entrypoints: ['websecure'], certResolver: '' }), { tags: [sut.MANAGED_TAG], canaryTags: [sut.MANAGED_TAG] });
  const { tags } = sut.traefikTags('abc', ['a.example.com', 'b.example.com'], { entrypoints: ['websecure'], certResolver: 'le' });
  assert.ok(tags.includes('traefik.http.routers.d-abc.rule=Host(`a.example.com`) || Host(`b.example.com`)'));
  assert.ok(tags.includes('traefik.http.routers.d-abc.tls.certresolver=le'));
  assert.throws(() => sut.traefikTags('abc', ['a.com`) || Host(`evil.com'], { entrypoints: ['websecure'], certResolver: '' }));
});
