/**
 * The authorization matrix test: boots the real app over real HTTP on a real Postgres and walks EVERY operation of
 * /api/openapi.json — as each role of the first team through a session and a token of each scope (what matrix.ts
 * says), without credentials, and as the owner of a second team — and proves that no answer to an outsider carries
 * an ID or a name of the first team's resources.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Roles } from '../core/actor.ts';
import { Client, startTestApp, type Reply, type TestApp } from '../testing/app.ts';
import { buildFixture, EXAMPLES, FRESH_CREDENTIAL, HEADERS, freshSession, resolve, type Fixture, type Principal } from './fixture.ts';
import { Credentials, expectedOutcome, MATRIX, OUTCOME_STATUS, type Credential, type Outcome } from './matrix.ts';

/** ISSUERS are the operations whose answer may carry a secret: they issue or reveal it. */
const ISSUERS = new Set(['getSession', 'login', 'completeSetup', 'acceptInvitation', 'createToken', 'revealServiceVariable', 'revealSharedVariable']);

/** PROJECT_BOUND are the path parameters that name a project or something inside one. */
const PROJECT_BOUND = new Set(['projectId', 'environmentId', 'serviceId', 'variableKey', 'domainId', 'webhookId']);

interface Operation {
  id: string;
  method: string;
  path: string;
  params: string[];
  isPublic: boolean;
  hasBody: boolean;
  status: number;
}

function operationsOf(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const ok = Object.keys(op.responses as Record<string, unknown>).filter((s) => /^2\d\d$/.test(s));
      assert.equal(ok.length, 1, `${String(op.operationId)} documents exactly one 2xx`);
      out.push({
        id: String(op.operationId), method, path, params: [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? ''),
        isPublic: (op.security as unknown[]).length === 0, hasBody: op.requestBody !== undefined, status: Number(ok[0]),
      });
    }
  }
  return out;
}

function letterOf(op: Operation, r: Reply): string {
  if (r.status === op.status) return 'A';
  const found = Object.entries(OUTCOME_STATUS).find(([, s]) => s === r.status);
  return found ? found[0] : `?${r.status}`;
}

describe('authorization matrix: every operation of the OpenAPI document', () => {
  let sut: TestApp;
  let f: Fixture;
  let ops: Operation[];
  before(async () => {
    sut = await startTestApp();
    const doc = await (await fetch(`${sut.url}/api/openapi.json`)).json();
    ops = operationsOf(doc);
    f = await buildFixture(sut, new Set(ops.flatMap((o) => o.params)));
  });
  after(async () => {
    await sut?.close();
  });

  it('the matrix names exactly the operations of the document, and every mutation has an example body', () => {
    const inDoc = new Set(ops.map((o) => o.id));
    assert.deepEqual(ops.filter((o) => !MATRIX[o.id]).map((o) => o.id), [], 'operations missing from server/src/authz/matrix.ts');
    assert.deepEqual(Object.keys(MATRIX).filter((id) => !inDoc.has(id)), [], 'matrix.ts names operations the document does not have');
    assert.deepEqual(ops.filter((o) => o.hasBody && !EXAMPLES[o.id]).map((o) => o.id), [], 'mutations without an example body in authz/fixture.ts');
    for (const o of ops) {
      const row = MATRIX[o.id];
      if (!row) continue;
      assert.match(row.grid, /^[AFNUC]{4}( [AFNUC]{4}){3}$/, `${o.id}: malformed grid`);
      if (expectedOutcome(row, 0, 'session') !== 'A') assert.ok(row.why, `${o.id}: the owner must be allowed, or the row must say why not`);
      if (o.method !== 'get' && !o.isPublic) {
        for (let i = 0; i < Roles.length; i++) {
          assert.notEqual(expectedOutcome(row, i, 'read'), 'A', `${o.id}: a read token may not mutate`);
        }
      }
      if (!o.isPublic) assert.equal(row.anonymous, 'U', `${o.id}: operations that need a user answer 401 without one`);
    }
  });

  async function idsFor(op: Operation, subject: Principal): Promise<Record<string, string>> {
    const ids = { ...f.world };
    delete ids.tokenId;
    const last = op.params.at(-1);
    if (last && op.method === 'delete') delete ids[last];
    await resolve(f, op.params, ids, subject);
    return ids;
  }

  async function call(op: Operation, client: Client, caller: Principal | null, subject: Principal): Promise<Reply> {
    const ids = await idsFor(op, subject);
    const example = EXAMPLES[op.id];
    const body = example ? await example({ f, ids, caller, subject }) : undefined;
    const headers = HEADERS[op.id]?.({ f, ids, caller, subject }) ?? {};
    const path = op.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(ids[p] ?? 'missing'));
    return client.request(op.method.toUpperCase(), path, op.hasBody ? (body ?? {}) : undefined, headers);
  }

  async function clientOf(p: Principal, cred: Credential, fresh: boolean): Promise<Client> {
    if (cred === 'session') return fresh ? freshSession(sut, p) : p.session;
    const token = p.tokens[cred].bearer ?? '';
    return fresh ? new Client(sut.url, token) : p.tokens[cred];
  }

  function leaksIn(r: Reply): string[] {
    if (!r.text) return [];
    const body = r.body && typeof r.body === 'object' ? { ...r.body, instance: undefined } : r.body;
    const text = body === undefined ? r.text : JSON.stringify(body);
    return [...f.leaks].filter((s) => s.length >= 6 && text.includes(s));
  }

  it('each role × credential gets what the matrix says (and the owner gets the documented 2xx)', async () => {
    const problems: string[] = [];
    for (const op of ops) {
      const row = MATRIX[op.id];
      const observed: string[] = [];
      for (let i = 0; i < Roles.length; i++) {
        const role = Roles[i] ?? 'owner';
        const p = f.members[role];
        let group = '';
        for (const cred of Credentials) {
          const r = await call(op, await clientOf(p, cred, FRESH_CREDENTIAL.has(op.id)), p, p);
          const got = letterOf(op, r);
          group += got.length === 1 ? got : '?';
          const want: Outcome | undefined = row ? expectedOutcome(row, i, cred) : undefined;
          if (want && got !== want) problems.push(`${op.id} as ${role}/${cred}: expected ${want}, got ${r.status} ${r.text.slice(0, 200)}`);
          if (!ISSUERS.has(op.id)) {
            const shown = [...f.secrets].filter((x) => r.text.includes(x));
            if (shown.length > 0) problems.push(`${op.id} as ${role}/${cred}: the answer carries a secret (password, session, CSRF, token or variable value)`);
          }
          if (r.status >= 400) {
            const leaked = leaksIn(r);
            if (leaked.length > 0) problems.push(`${op.id} as ${role}/${cred}: a ${r.status} answer mentions ${leaked.join(', ')}`);
          }
        }
        observed.push(group);
      }
      if (!row) problems.push(`${op.id} is not in matrix.ts; observed grid: '${observed.join(' ')}'`);
    }
    assert.deepEqual(problems, []);
  });

  it('without credentials and as another team’s owner, nothing of the first team is answered', async () => {
    const problems: string[] = [];
    for (const op of ops) {
      const row = MATRIX[op.id];
      if (!row) continue;
      const probes: [string, () => Promise<Client>, Principal | null, Outcome][] = [
        ['anonymous', async () => new Client(sut.url), null, row.anonymous],
        ['other team owner', async () => (FRESH_CREDENTIAL.has(op.id) ? freshSession(sut, f.outsider) : f.outsider.session), f.outsider, row.otherTeam],
        ['other team read token', async () => f.outsider.tokens.read, f.outsider, op.method === 'get' || op.isPublic ? 'A' : 'F'],
      ];
      for (const [label, mk, caller, want] of probes) {
        if (label === 'other team read token' && (op.method === 'get' || op.isPublic)) continue;
        const r = await call(op, await mk(), caller, f.founder);
        const got = letterOf(op, r);
        const expected = label === 'other team read token' ? ['F', 'N'] : [want];
        if (!expected.includes(got)) problems.push(`${op.id} ${label}: expected ${expected.join('/')}, got ${r.status} ${r.text.slice(0, 200)}`);
        if (!op.isPublic && got === 'A' && label === 'anonymous') problems.push(`${op.id} answers without credentials`);
        const leaked = leaksIn(r);
        if (leaked.length > 0) problems.push(`${op.id} ${label}: the answer mentions ${leaked.join(', ')}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('a member limited to other projects gets 404 on everything inside the world’s project, and lists without it', async () => {
    const problems: string[] = [];
    for (const op of ops) {
      if (op.isPublic) continue;
      const bound = op.params.some((p) => PROJECT_BOUND.has(p));
      const r = await call(op, FRESH_CREDENTIAL.has(op.id) ? await freshSession(sut, f.limited) : f.limited.session, f.limited, f.limited);
      const text = JSON.stringify(r.body && typeof r.body === 'object' ? { ...r.body, instance: undefined } : r.body ?? r.text);
      const seen = [...f.projectLeaks].filter((x) => x.length >= 6 && text.includes(x));
      if (bound && r.status !== 404) problems.push(`${op.id}: expected 404, got ${r.status} ${r.text.slice(0, 200)}`);
      if (seen.length > 0 && !(op.method !== 'get' && r.status < 300)) problems.push(`${op.id}: the answer mentions ${seen.join(', ')}`);
    }
    assert.deepEqual(problems, []);
  });

  it('invalid input: every field of every example body, and every page limit, given a wrong type gets problem+json naming it', async () => {
    const problems: string[] = [];
    const owner = f.members.owner;
    let fields = 0;
    let lists = 0;
    for (const op of ops) {
      if (FRESH_CREDENTIAL.has(op.id)) continue;
      const ids = await idsFor(op, owner);
      const path = op.path.replace(/\{(\w+)\}/g, (_, p: string) => encodeURIComponent(ids[p] ?? 'missing'));
      const example = EXAMPLES[op.id];
      if (op.hasBody && example) {
        const body = (await example({ f, ids, caller: owner, subject: owner })) as Record<string, unknown>;
        for (const field of Object.keys(body)) {
          fields += 1;
          const r = await owner.session.request(op.method.toUpperCase(), path, { ...body, [field]: [[[]]] }, HEADERS[op.id]?.({ f, ids, caller: owner, subject: owner }) ?? {});
          const named = Array.isArray(r.body?.errors) && r.body.errors.some((e: { path: string }) => e.path === `body.${field}` || e.path.startsWith(`body.${field}.`) || e.path.startsWith(`body.${field}[`));
          if (r.status !== 400 || !/application\/problem\+json/.test(r.headers.get('content-type') ?? '') || !named) {
            problems.push(`${op.id} body.${field}: got ${r.status} ${r.text.slice(0, 160)}`);
          }
        }
      }
      if (op.method === 'get' && (await owner.session.get(path)).body?.nextCursor !== undefined) {
        lists += 1;
        const r = await owner.session.get(`${path}?limit=abc`);
        if (r.status !== 400 || r.body?.errors?.[0]?.path !== 'query.limit') problems.push(`${op.id} query.limit: got ${r.status} ${r.text.slice(0, 160)}`);
      }
    }
    assert.deepEqual(problems, []);
    assert.ok(fields >= 25 && lists >= 10, `checked ${fields} fields and ${lists} lists`);
  });

  it('no issued secret (password, session, CSRF or API token) appears in the log', () => {
    const logs = sut.logs.join('\n');
    const principals = [f.founder, f.outsider, ...Object.values(f.members)];
    const secrets = principals.flatMap((p) => [
      p.password, p.session.cookies.get('drover_session') ?? '', p.session.cookies.get('drover_csrf') ?? '',
      ...Object.values(p.tokens).map((t) => t.bearer ?? ''),
    ]).filter((s) => s.length > 8);
    assert.ok(secrets.length >= principals.length * 5);
    for (const s of secrets) assert.equal(logs.includes(s), false, 'a secret reached the log');
  });
});
