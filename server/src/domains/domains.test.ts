import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inviteAndJoin, setupOwner, type Client, startTestApp, type TestApp } from '../testing/app.ts';
import { startDnsTestServer, type DnsTestServer } from './dns-test-server.ts';
import { ChallengeRefused, HttpChallengeFetcher, SystemDnsResolver, type HttpChallengeFetcherOptions } from './verification.ts';

interface Domain {
  id: string;
  hostname: string;
  kind: string;
  routed: boolean;
  certificateStatus: string;
  verification: { status: string; method: string | null; dnsRecord: { name: string; value: string } | null; httpUrl: string | null; lastCheckError: string | null };
}

describe('domains over HTTP, verified through a loopback DNS server and Drover’s own HTTP challenge', () => {
  let dns: DnsTestServer;
  let sut: TestApp;
  let owner: Client;
  let teamId: string;
  let serviceId: string;
  const fetcherOptions: HttpChallengeFetcherOptions = { resolver: undefined as never, allowPrivateTargets: true, timeoutMs: 2000 };

  before(async () => {
    dns = await startDnsTestServer();
    const resolver = new SystemDnsResolver([dns.server], 1000);
    fetcherOptions.resolver = resolver;
    sut = await startTestApp({ resolver, fetcher: new HttpChallengeFetcher(fetcherOptions) });
    // The "domain's web server" is Drover itself (as when the domain points at Drover's Traefik).
    fetcherOptions.port = Number(new URL(sut.url).port);
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
    const p = await owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' });
    const env = (await owner.get(`/api/projects/${p.body.id}/environments`)).body.items[0];
    serviceId = (await owner.post(`/api/environments/${env.id}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1', port: 8080 })).body.id;
  });
  after(async () => {
    await sut.close();
    await dns.close();
  });

  const add = async (hostname: string, c: Client = owner) => c.post(`/api/services/${serviceId}/domains`, { hostname });

  it('adds a custom domain pending verification, not routed, with how to verify it', async () => {
    const r = await add('shop.example.com');
    assert.equal(r.status, 201, r.text);
    const d = r.body as Domain;
    assert.equal(d.kind, 'custom');
    assert.equal(d.routed, false);
    assert.equal(d.certificateStatus, 'unknown');
    assert.equal(d.verification.status, 'pending');
    assert.equal(d.verification.dnsRecord?.name, '_drover-challenge.shop.example.com');
    assert.match(d.verification.dnsRecord?.value ?? '', /^[0-9a-f]{32}$/);
    assert.equal(d.verification.httpUrl, `http://shop.example.com/.well-known/drover-challenge/${d.verification.dnsRecord?.value}`);
    const list = await owner.get(`/api/services/${serviceId}/domains`);
    assert.deepEqual(list.body.items.map((x: Domain) => x.kind).sort(), ['custom', 'generated']);
    assert.equal((await owner.get(`/api/domains/${d.id}`)).body.hostname, 'shop.example.com');
  });

  it('stays pending when neither check passes, saying what each found (audited)', async () => {
    const d = (await add('nothing.example.com')).body as Domain;
    const r = await owner.post(`/api/domains/${d.id}/verify`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.verification.status, 'pending');
    assert.equal(r.body.routed, false);
    assert.match(r.body.verification.lastCheckError, /dns: no TXT record at _drover-challenge\.nothing\.example\.com/);
    assert.match(r.body.verification.lastCheckError, /http: nothing\.example\.com has no A or AAAA record/);
    dns.records.set('_drover-challenge.nothing.example.com', { TXT: ['wrong-token'] });
    const again = await owner.post(`/api/domains/${d.id}/verify`);
    assert.match(again.body.verification.lastCheckError, /holds the token/);
    const audits = (await sut.db.dataSource.query(`SELECT details FROM audit_entries WHERE action = 'domain.verify' AND target_id = $1`, [d.id])) as { details: { verified: boolean } }[];
    assert.deepEqual(audits.map((a) => a.details.verified), [false, false]);
  });

  it('verifies by a DNS TXT record, then routes the domain', async () => {
    const d = (await add('txt.example.com')).body as Domain;
    dns.records.set('_drover-challenge.txt.example.com', { TXT: ['unrelated', d.verification.dnsRecord?.value ?? ''] });
    const r = await owner.post(`/api/domains/${d.id}/verify`);
    assert.equal(r.body.verification.status, 'verified', r.text);
    assert.equal(r.body.verification.method, 'dns');
    assert.equal(r.body.routed, true);
    assert.equal(r.body.verification.dnsRecord, null);
    assert.ok(dns.questions.includes('TXT _drover-challenge.txt.example.com'));
  });

  it('verifies by the HTTP token that Drover serves for a domain pointing at it', async () => {
    const d = (await add('http.example.com')).body as Domain;
    const token = d.verification.dnsRecord?.value ?? '';
    const direct = await fetch(`${sut.url}/.well-known/drover-challenge/${token}`);
    assert.equal(direct.status, 200);
    assert.equal(await direct.text(), token);
    assert.equal((await fetch(`${sut.url}/.well-known/drover-challenge/${'0'.repeat(32)}`)).status, 404);
    dns.records.set('http.example.com', { A: ['127.0.0.1'] });
    const r = await owner.post(`/api/domains/${d.id}/verify`);
    assert.equal(r.body.verification.status, 'verified', r.text);
    assert.equal(r.body.verification.method, 'http');
    assert.equal((await fetch(`${sut.url}/.well-known/drover-challenge/${token}`)).status, 404, 'a verified domain no longer answers its challenge');
  });

  it('refuses hostile hostnames with problem+json naming body.hostname, writing nothing', async () => {
    const before = (await owner.get(`/api/services/${serviceId}/domains?limit=100`)).body.items.length;
    for (const h of ['evil.com`) || Host(`x.com', "it's.example.com", 'a(b).example.com', 'a.com||b.com', '*.example.com', 'shop example.com', 'Shop.Example.com', 'web-x.apps.example.test', 'x'.repeat(254)]) {
      const r = await add(h);
      assert.equal(r.status, h.length > 1000 ? 400 : 422, `${h}: ${r.text}`);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.equal(r.body.errors[0].path, 'body.hostname');
    }
    assert.equal((await owner.get(`/api/services/${serviceId}/domains?limit=100`)).body.items.length, before);
  });

  it('keeps a hostname unique across all teams without revealing who holds it', async () => {
    const other = await owner.post('/api/teams', { name: 'Rival', slug: 'rival' });
    const rival = await inviteAndJoin(sut, owner, other.body.id, 'rival@example.test', 'owner');
    const rp = await rival.client.post(`/api/teams/${other.body.id}/projects`, { slug: 'rshop' });
    const renv = (await rival.client.get(`/api/projects/${rp.body.id}/environments`)).body.items[0];
    const rsvc = (await rival.client.post(`/api/environments/${renv.id}/services`, { slug: 'rweb', image: 'a:1' })).body;
    const r = await rival.client.post(`/api/services/${rsvc.id}/domains`, { hostname: 'shop.example.com' });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'domain/taken');
    assert.equal(r.body.errors[0].path, 'body.hostname');
    assert.ok(!r.text.includes(teamId) && !r.text.includes(serviceId) && !r.text.includes('shop"'));
    const idn = await rival.client.post(`/api/services/${rsvc.id}/domains`, { hostname: 'bücher.example' });
    assert.equal(idn.body.hostname, 'xn--bcher-kva.example');
    const again = await add('xn--bcher-kva.example');
    assert.equal(again.status, 409);
    const d = (await owner.get(`/api/services/${serviceId}/domains?limit=100`)).body.items.find((x: Domain) => x.hostname === 'shop.example.com');
    assert.equal((await rival.client.get(`/api/domains/${d.id}`)).status, 404);
    assert.equal((await rival.client.post(`/api/domains/${d.id}/verify`)).status, 404);
    assert.equal((await rival.client.del(`/api/domains/${d.id}`)).status, 404);
  });

  it('deletes custom domains (freeing the name), refuses to delete a generated one, and shows certificate status', async () => {
    const items = (await owner.get(`/api/services/${serviceId}/domains?limit=100`)).body.items as Domain[];
    const generated = items.find((x) => x.kind === 'generated')!;
    const g = await owner.del(`/api/domains/${generated.id}`);
    assert.equal(g.status, 422);
    const custom = items.find((x) => x.hostname === 'txt.example.com')!;
    await sut.services.projectDomains.domains.setCertificateStatus(custom.id, 'issued');
    assert.equal((await owner.get(`/api/domains/${custom.id}`)).body.certificateStatus, 'issued');
    assert.equal((await owner.del(`/api/domains/${custom.id}`)).status, 204);
    assert.equal((await owner.get(`/api/domains/${custom.id}`)).status, 404);
    assert.equal((await add('txt.example.com')).status, 201);
  });

  it('a viewer may list but not add, verify or delete', async () => {
    const viewer = await inviteAndJoin(sut, owner, teamId, 'viewer-d@example.test', 'viewer');
    assert.equal((await viewer.client.get(`/api/services/${serviceId}/domains`)).status, 200);
    assert.equal((await add('viewer.example.com', viewer.client)).status, 403);
  });
});

describe('domains with DROVER_ALLOW_UNVERIFIED_DOMAINS', () => {
  it('routes a custom domain of a public service before verification (labs)', async () => {
    const sut = await startTestApp({ env: { DROVER_ALLOW_UNVERIFIED_DOMAINS: 'true' } });
    try {
      const o = await setupOwner(sut).catch((e: unknown) => {
        throw new Error(`${String(e)}\n${sut.logs.filter((l) => /"level":(50|60)/.test(l)).join('\n')}`);
      });
      const p = await o.client.post(`/api/teams/${o.teamId}/projects`, { slug: 'lab' });
      const env = (await o.client.get(`/api/projects/${p.body.id}/environments`)).body.items[0];
      const pub = (await o.client.post(`/api/environments/${env.id}/services`, { slug: 'web', image: 'a:1', port: 80 })).body;
      const priv = (await o.client.post(`/api/environments/${env.id}/services`, { slug: 'worker', image: 'a:1' })).body;
      const d = await o.client.post(`/api/services/${pub.id}/domains`, { hostname: 'lab.example.com' });
      assert.equal(d.body.verification.status, 'pending');
      assert.equal(d.body.routed, true);
      const hidden = await o.client.post(`/api/services/${priv.id}/domains`, { hostname: 'worker.example.com' });
      assert.equal(hidden.body.routed, false, 'a private service routes nothing');
    } finally {
      await sut.close();
    }
  });
});

describe('HttpChallengeFetcher', () => {
  it('refuses loopback, private and link-local targets unless allowed', async () => {
    const dns = await startDnsTestServer();
    try {
      const resolver = new SystemDnsResolver([dns.server], 1000);
      dns.records.set('inside.example.com', { A: ['10.0.0.5'] });
      dns.records.set('loop.example.com', { A: ['127.0.0.1'] });
      dns.records.set('meta.example.com', { A: ['169.254.169.254'] });
      dns.records.set('v6.example.com', { AAAA: ['::1'] });
      dns.records.set('mixed.example.com', { A: ['93.184.215.14', '192.168.1.1'] });
      const sut = new HttpChallengeFetcher({ resolver, allowPrivateTargets: false, timeoutMs: 500 });
      for (const h of ['inside.example.com', 'loop.example.com', 'meta.example.com', 'v6.example.com', 'mixed.example.com']) {
        await assert.rejects(sut.fetch(h, '/.well-known/drover-challenge/x'), ChallengeRefused, h);
      }
      await assert.rejects(sut.fetch('missing.example.com', '/'), /has no A or AAAA record/);
    } finally {
      await dns.close();
    }
  });
});
