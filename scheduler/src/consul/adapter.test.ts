import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConsulAdapter } from './adapter.ts';
import { ConsulConfigError, consulConfigFromEnv } from './config.ts';
import { ConsulNotFoundError, ConsulResponseError, ConsulUnreachableError } from './errors.ts';
import type { ConsulCatalogService, ConsulServiceEntry } from './types.ts';
import { readContract } from '../contracts/index.ts';
import { sendJson, startTestServer } from '../nomad/test-server.ts';
import type { TestHandler, TestServer } from '../nomad/test-server.ts';

const ajv = new Ajv2020({ allErrors: true, strict: false, validateFormats: false });
ajv.addSchema(readContract('consul-api.schema.json'), 'consul');
function violations(def: string, value: unknown): string[] {
  const v = ajv.compile({ $ref: `consul#/$defs/${def}` });
  return v(value) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

const jobId = 'shop-prod-web-0a1b2c3d';

/** serviceEntryFactory sets every key the adapter models, so validating it proves each key exists in Consul's api. */
function serviceEntryFactory(status: string, id = 'inst-1'): ConsulServiceEntry {
  return {
    Node: { ID: '0b9f7a34-0000-4000-8000-000000000001', Node: 'client-1', Address: '10.0.0.5', Datacenter: 'dc1', TaggedAddresses: { lan: '10.0.0.5' }, Meta: { rack: 'a' }, CreateIndex: 1, ModifyIndex: 2 },
    Service: { ID: id, Service: jobId, Tags: ['traefik.enable=true', 'drover.managed=true'], Meta: { drover_team: 'team-1' }, Port: 23456, Address: '10.0.0.5', Datacenter: 'dc1', CreateIndex: 3, ModifyIndex: 4 },
    Checks: [
      { Node: 'client-1', CheckID: 'serfHealth', Name: 'Serf Health Status', Status: 'passing', Notes: '', Output: 'Agent alive', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '', CreateIndex: 1, ModifyIndex: 1 },
      { Node: 'client-1', CheckID: `_nomad-check-${id}`, Name: 'http', Status: status, Notes: '', Output: 'HTTP GET /health: 200', ServiceID: id, ServiceName: jobId, ServiceTags: ['drover.managed=true'], Type: 'http', CreateIndex: 5, ModifyIndex: 6 },
    ],
  };
}

function catalogServiceFactory(): ConsulCatalogService {
  return {
    ID: '0b9f7a34-0000-4000-8000-000000000001', Node: 'client-1', Address: '10.0.0.5', Datacenter: 'dc1', NodeMeta: { rack: 'a' },
    ServiceID: 'inst-1', ServiceName: jobId, ServiceAddress: '10.0.0.5', ServiceTags: ['drover.managed=true'], ServiceMeta: { drover_team: 'team-1' },
    ServicePort: 23456, CreateIndex: 3, ModifyIndex: 4,
  };
}

async function withConsul(handler: TestHandler, token = 'consul-read-token'): Promise<{ server: TestServer; sut: ConsulAdapter }> {
  const server = await startTestServer(handler);
  const sut = new ConsulAdapter(consulConfigFromEnv({ CONSUL_HTTP_ADDR: server.url.replace('http://', ''), CONSUL_HTTP_TOKEN: token }, { timeoutMs: 2000 }));
  after(async () => {
    sut.close();
    await server.close();
  });
  return { server, sut };
}

describe('contract', () => {
  test('the modelled ServiceEntry and CatalogService, fully populated, validate against consul-api.schema.json', () => {
    assert.deepEqual(violations('ServiceEntry', serviceEntryFactory('passing')), []);
    assert.deepEqual(violations('CatalogService', catalogServiceFactory()), []);
    assert.notDeepEqual(violations('ServiceEntry', { Service: { Port: 1, Portt: 2 } }), [], 'the schema rejects unknown keys');
  });
});

describe('config', () => {
  test('consulConfigFromEnv reads the HashiCorp names and explicit options win', () => {
    const pems: Record<string, string> = { '/ca': 'CA', '/c': 'C', '/k': 'K' };
    const sut = consulConfigFromEnv({
      CONSUL_HTTP_ADDR: 'consul.service:8501', CONSUL_HTTP_SSL: 'true', CONSUL_HTTP_TOKEN: 't', CONSUL_CACERT: '/ca',
      CONSUL_CLIENT_CERT: '/c', CONSUL_CLIENT_KEY: '/k', CONSUL_TLS_SERVER_NAME: 'server.dc1.consul', CONSUL_HTTP_SSL_VERIFY: 'false',
    }, { datacenter: 'dc2' }, (p) => pems[p] ?? '');
    assert.deepEqual(sut, { address: 'https://consul.service:8501', token: 't', datacenter: 'dc2', tls: { ca: 'CA', cert: 'C', key: 'K', serverName: 'server.dc1.consul', skipVerify: true } });
    assert.deepEqual(consulConfigFromEnv({}), { address: 'http://127.0.0.1:8500' });
    assert.deepEqual(consulConfigFromEnv({ CONSUL_HTTP_ADDR: 'http://a:1' }, { address: 'http://b:2' }).address, 'http://b:2');
    for (const env of [{ CONSUL_HTTP_ADDR: 'ftp://x' }, { CONSUL_HTTP_SSL: 'perhaps' }, { CONSUL_HTTP_ADDR: 'http://x:1/v1' }]) {
      assert.throws(() => consulConfigFromEnv(env), ConsulConfigError, JSON.stringify(env));
    }
  });
});

describe('reads', () => {
  test('serviceHealth asks /v1/health/service/:name with passing, filter, dc and the token; returns entries and meta', async () => {
    const entries = [serviceEntryFactory('passing')];
    const { server, sut } = await withConsul((_req, res) => sendJson(res, 200, entries, { 'X-Consul-Index': '77', 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '3' }));
    const r = await sut.serviceHealth(jobId, { passingOnly: true, filter: 'Service.Meta.drover_team == "team-1"', dc: 'dc1' });
    for (const e of r.data) assert.deepEqual(violations('ServiceEntry', e), []);
    assert.deepEqual(r.data, entries);
    assert.deepEqual(r.meta, { lastIndex: 77, knownLeader: true, lastContact: 3 });
    const req = server.requests[0];
    assert.ok(req);
    assert.equal(req.method, 'GET');
    assert.equal(req.path, `/v1/health/service/${jobId}`);
    assert.equal(req.query.get('passing'), 'true');
    assert.equal(req.query.get('filter'), 'Service.Meta.drover_team == "team-1"');
    assert.equal(req.query.get('dc'), 'dc1');
    assert.equal(req.headers['x-consul-token'], 'consul-read-token');
  });

  test('serviceInstances summarizes each instance by its worst check', async () => {
    const { sut } = await withConsul((_req, res) => sendJson(res, 200, [serviceEntryFactory('passing', 'a'), serviceEntryFactory('warning', 'b'), serviceEntryFactory('critical', 'c')]));
    const r = await sut.serviceInstances(jobId);
    assert.deepEqual(r.data.map((i) => [i.id, i.status, i.port, i.address]), [['a', 'passing', 23456, '10.0.0.5'], ['b', 'warning', 23456, '10.0.0.5'], ['c', 'critical', 23456, '10.0.0.5']]);
    assert.deepEqual(r.data[0]?.meta, { drover_team: 'team-1' });
  });

  test('a blocking read sends index and wait', async () => {
    const { server, sut } = await withConsul(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 100));
      sendJson(res, 200, [], { 'X-Consul-Index': '80' });
    });
    const r = await sut.serviceHealth(jobId, { index: 77, wait: 5000 });
    assert.equal(r.meta.lastIndex, 80);
    assert.equal(server.requests[0]?.query.get('index'), '77');
    assert.equal(server.requests[0]?.query.get('wait'), '5000ms');
  });

  test('catalogService and catalogServices read the catalog', async () => {
    const { server, sut } = await withConsul((req, res) => (req.path === '/v1/catalog/services'
      ? sendJson(res, 200, { [jobId]: ['drover.managed=true'], consul: [] })
      : sendJson(res, 200, [catalogServiceFactory()])));
    const one = await sut.catalogService(jobId, { tag: 'drover.managed=true' });
    for (const c of one.data) assert.deepEqual(violations('CatalogService', c), []);
    assert.equal(one.data[0]?.ServicePort, 23456);
    assert.deepEqual((await sut.catalogServices()).data, { [jobId]: ['drover.managed=true'], consul: [] });
    assert.deepEqual(server.requests.map((r) => `${r.method} ${r.path}`), [`GET /v1/catalog/service/${jobId}`, 'GET /v1/catalog/services']);
    assert.equal(server.requests[0]?.query.get('tag'), 'drover.managed=true');
  });

  test('a service with no instance is an empty list, or ConsulNotFoundError where one is required', async () => {
    const { sut } = await withConsul((_req, res) => sendJson(res, 200, []));
    assert.deepEqual((await sut.serviceHealth(jobId)).data, []);
    await assert.rejects(sut.requireCatalogService(jobId), ConsulNotFoundError);
  });
});

describe('errors', () => {
  test('5xx is ConsulUnreachableError with its status, 403 a ConsulResponseError, 404 ConsulNotFoundError', async () => {
    const statuses = [500, 403, 404];
    let n = 0;
    const { sut } = await withConsul((_req, res) => {
      res.writeHead(statuses[n++] ?? 500, { 'content-type': 'text/plain' });
      res.end('No cluster leader');
    });
    await assert.rejects(sut.serviceHealth(jobId), (e: unknown) => e instanceof ConsulUnreachableError && e.status === 500 && e.code === 'consul/unreachable');
    await assert.rejects(sut.serviceHealth(jobId), (e: unknown) => e instanceof ConsulResponseError && e.status === 403);
    await assert.rejects(sut.serviceHealth(jobId), (e: unknown) => e instanceof ConsulNotFoundError && e.code === 'consul/not_found');
  });

  test('a refused connection, a reset and a timeout are ConsulUnreachableError, never not-found', async () => {
    const dead = await startTestServer(() => undefined);
    const url = dead.url;
    await dead.close();
    const refused = new ConsulAdapter({ address: url, timeoutMs: 500 });
    await assert.rejects(refused.catalogServices(), (e: unknown) => e instanceof ConsulUnreachableError && e.status === undefined);
    refused.close();

    const { sut } = await withConsul((req) => void req.socket.destroy());
    await assert.rejects(sut.serviceHealth(jobId), ConsulUnreachableError);

    const hang = await startTestServer(() => undefined);
    const slow = new ConsulAdapter({ address: hang.url, timeoutMs: 150 });
    await assert.rejects(slow.serviceHealth(jobId), ConsulUnreachableError);
    slow.close();
    await hang.close();
  });

  test('an abort ends a pending (blocking) read with the abort reason, not an outage error', async () => {
    const { sut } = await withConsul(() => undefined);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(sut.serviceHealth(jobId, { index: 5, wait: 60_000, signal: ac.signal }), (e: unknown) => (e as Error).name === 'AbortError');
  });

  test('service names are validated before any request; the adapter offers no deregister', async () => {
    const { server, sut } = await withConsul((_req, res) => sendJson(res, 200, []));
    assert.throws(() => sut.serviceHealth('../agent/service/deregister/x'), TypeError);
    assert.equal(server.requests.length, 0);
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(sut));
    assert.ok(!methods.some((m) => /register|deregister|put|delete/i.test(m)), methods.join(','));
  });
});
