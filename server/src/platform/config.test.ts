import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, configReference, decodeSecretKey, loadConfig, renderConfigTable, secretKeyBytes } from './config.ts';

const key = Buffer.alloc(32, 7).toString('base64');
const tempDir = () => mkdtempSync(join(tmpdir(), 'drover-config-'));

function issuesOf(fn: () => unknown): Record<string, string> {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return Object.fromEntries(e.issues.map((i) => [i.variable, i.message]));
  }
  assert.fail('expected loadConfig to throw');
}

describe('loadConfig', () => {
  test('gives development defaults and generates the secret key once, mode 0600', () => {
    const dir = tempDir();
    const sut = loadConfig({ DROVER_DATA_DIR: dir });
    assert.equal(sut.nodeEnv, 'development');
    assert.equal(sut.port, 3000);
    assert.equal(sut.host, '127.0.0.1');
    assert.equal(sut.publicUrl, 'http://localhost:3000');
    assert.equal(sut.dataDir, dir);
    assert.equal(sut.databaseUrl, undefined);
    assert.equal(sut.redisUrl, undefined);
    assert.equal(sut.appsDomain, 'localhost');
    assert.equal(sut.allowUnverifiedDomains, false);
    assert.equal(sut.trustProxy, false);
    assert.equal(sut.logLevel, 'info');
    assert.equal(sut.nomad.address, 'http://127.0.0.1:4646');
    assert.equal(sut.vault, undefined);
    assert.equal(sut.secretKeySource, 'file');
    assert.equal(secretKeyBytes(sut).length, 32);
    const file = join(dir, 'secret.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = loadConfig({ DROVER_DATA_DIR: dir });
    assert.equal(again.secretKey, sut.secretKey, 'the key is generated once and reused');
    assert.notEqual(loadConfig({ DROVER_DATA_DIR: tempDir() }).secretKey, sut.secretKey, 'no fixed default key');
  });

  test('resolves a relative data directory against cwd', () => {
    const cwd = tempDir();
    assert.equal(loadConfig({ DROVER_DATA_DIR: 'state' }, { cwd }).dataDir, join(cwd, 'state'));
    assert.equal(loadConfig({}, { cwd }).dataDir, join(cwd, '.drover'));
  });

  test('production needs DROVER_SECRET_KEY and listens on all interfaces', () => {
    const dir = tempDir();
    assert.deepEqual(Object.keys(issuesOf(() => loadConfig({ NODE_ENV: 'production', DROVER_DATA_DIR: dir }))), ['DROVER_SECRET_KEY']);
    assert.throws(() => readFileSync(join(dir, 'secret.key')), /ENOENT/, 'no key file written in production');
    const sut = loadConfig({ NODE_ENV: 'production', DROVER_SECRET_KEY: key, DROVER_DATA_DIR: dir });
    assert.equal(sut.host, '0.0.0.0');
    assert.equal(sut.secretKeySource, 'env');
    assert.equal(sut.secretKey, key);
  });

  test('reports a missing production key alongside the other bad variables', () => {
    assert.deepEqual(Object.keys(issuesOf(() => loadConfig({ NODE_ENV: 'production', DROVER_PORT: 'x', DROVER_DATA_DIR: tempDir() }))),
      ['DROVER_PORT', 'DROVER_SECRET_KEY']);
  });

  test('accepts the key as hex too', () => {
    const hex = Buffer.alloc(32, 9).toString('hex');
    assert.deepEqual(decodeSecretKey(hex), Buffer.alloc(32, 9));
    assert.equal(decodeSecretKey('c2hvcnQ='), undefined);
  });

  test('parses every variable', () => {
    const sut = loadConfig({
      NODE_ENV: 'test', DROVER_PORT: '8080', DROVER_HOST: '::1', DROVER_PUBLIC_URL: 'https://drover.example.com/',
      DROVER_DATA_DIR: tempDir(), DROVER_SECRET_KEY: key, DATABASE_URL: 'postgres://u:p@db:5432/drover',
      REDIS_URL: 'rediss://r:6380', DROVER_APPS_DOMAIN: 'apps.example.com', DROVER_ALLOW_UNVERIFIED_DOMAINS: 'true',
      DROVER_TRUST_PROXY: '1', DROVER_LOG_LEVEL: 'debug', NOMAD_ADDR: 'https://nomad:4646/', NOMAD_TOKEN: 'nt',
      NOMAD_NAMESPACE: 'ns', NOMAD_REGION: 'eu', NOMAD_TLS_SERVER_NAME: 'server.global.nomad', NOMAD_SKIP_VERIFY: 'false',
      NOMAD_MGMT_TOKEN: 'mt', CONSUL_HTTP_ADDR: '127.0.0.1:8500', CONSUL_HTTP_TOKEN: 'ct', CONSUL_CACERT: '/ca.pem',
      VAULT_ADDR: 'https://vault:8200/', VAULT_TOKEN: 'vt', VAULT_CACERT: '/vca.pem', VAULT_KV_MOUNT: 'kv',
      DROVER_REMOVE_ORPHANS: 'yes', DROVER_RECONCILE_INTERVAL: '2m', DROVER_DEPLOY_PROGRESS_DEADLINE: '1h',
    });
    assert.deepEqual({ ...sut.deployments }, { removeOrphans: true, reconcileIntervalMs: 120_000, progressDeadlineMs: 3_600_000 });
    assert.equal(sut.port, 8080);
    assert.equal(sut.host, '::1');
    assert.equal(sut.publicUrl, 'https://drover.example.com');
    assert.equal(sut.databaseUrl, 'postgres://u:p@db:5432/drover');
    assert.equal(sut.redisUrl, 'rediss://r:6380');
    assert.equal(sut.appsDomain, 'apps.example.com');
    assert.equal(sut.allowUnverifiedDomains, true);
    assert.equal(sut.trustProxy, true);
    assert.equal(sut.logLevel, 'debug');
    assert.deepEqual({ ...sut.nomad, tls: { ...sut.nomad.tls } }, {
      address: 'https://nomad:4646', token: 'nt', namespace: 'ns', region: 'eu', tls: { serverName: 'server.global.nomad', skipVerify: false },
    });
    assert.equal(sut.nomadManagementToken, 'mt');
    assert.deepEqual({ ...sut.consul }, { address: '127.0.0.1:8500', token: 'ct', caCertPath: '/ca.pem' });
    assert.deepEqual({ ...sut.vault }, { address: 'https://vault:8200', token: 'vt', caCertPath: '/vca.pem', kvMount: 'kv' });
    assert.equal(loadConfig({ DROVER_PORT: '4000', DROVER_SECRET_KEY: key }).publicUrl, 'http://localhost:4000');
  });

  test('lists EVERY bad variable at once, without echoing values', () => {
    const secretish = 'hunter2-not-a-key';
    const sut = issuesOf(() => loadConfig({
      NODE_ENV: 'staging', DROVER_PORT: '70000', DROVER_PUBLIC_URL: 'ftp://x', DROVER_SECRET_KEY: secretish,
      DATABASE_URL: 'mysql://x', REDIS_URL: 'http://r', DROVER_APPS_DOMAIN: '*.Apps.example.com',
      DROVER_ALLOW_UNVERIFIED_DOMAINS: 'maybe', DROVER_TRUST_PROXY: 'sometimes', DROVER_LOG_LEVEL: 'loud',
      NOMAD_ADDR: 'gopher://nomad', VAULT_ADDR: 'vault', VAULT_KV_MOUNT: '../etc',
    }));
    assert.deepEqual(Object.keys(sut).sort(), [
      'DATABASE_URL', 'DROVER_ALLOW_UNVERIFIED_DOMAINS', 'DROVER_APPS_DOMAIN', 'DROVER_LOG_LEVEL', 'DROVER_PORT',
      'DROVER_PUBLIC_URL', 'DROVER_SECRET_KEY', 'DROVER_TRUST_PROXY', 'NODE_ENV', 'NOMAD_ADDR', 'REDIS_URL', 'VAULT_ADDR', 'VAULT_KV_MOUNT',
    ].sort());
    assert.ok(!JSON.stringify(sut).includes(secretish));
  });

  test('a DROVER_PUBLIC_URL that is no URL at all is reported as a config issue, not a TypeError', () => {
    for (const v of ['10.0.0.1:3000', 'drover.example.com', '//x']) {
      assert.match(issuesOf(() => loadConfig({ DROVER_SECRET_KEY: key, DROVER_PUBLIC_URL: v })).DROVER_PUBLIC_URL ?? '', /http\(s\) URL/, v);
    }
  });

  test('defaults the deployment engine settings and refuses durations out of range', () => {
    assert.deepEqual({ ...loadConfig({ DROVER_SECRET_KEY: key }).deployments }, { removeOrphans: false, reconcileIntervalMs: 30_000, progressDeadlineMs: 900_000 });
    const sut = issuesOf(() => loadConfig({
      DROVER_SECRET_KEY: key, DROVER_REMOVE_ORPHANS: 'perhaps', DROVER_RECONCILE_INTERVAL: '10', DROVER_DEPLOY_PROGRESS_DEADLINE: '5s',
    }));
    assert.deepEqual(Object.keys(sut).sort(), ['DROVER_DEPLOY_PROGRESS_DEADLINE', 'DROVER_RECONCILE_INTERVAL', 'DROVER_REMOVE_ORPHANS']);
    assert.match(sut.DROVER_RECONCILE_INTERVAL ?? '', /duration/);
    assert.match(sut.DROVER_DEPLOY_PROGRESS_DEADLINE ?? '', /between 10s and 24h/);
  });

  test('keeps team events 7 days by default; DROVER_EVENT_RETENTION is a duration from 1h to 8760h', () => {
    assert.equal(loadConfig({ DROVER_SECRET_KEY: key }).eventRetentionMs, 7 * 24 * 3_600_000);
    assert.equal(loadConfig({ DROVER_SECRET_KEY: key, DROVER_EVENT_RETENTION: '48h' }).eventRetentionMs, 48 * 3_600_000);
    assert.match(issuesOf(() => loadConfig({ DROVER_SECRET_KEY: key, DROVER_EVENT_RETENTION: '30m' })).DROVER_EVENT_RETENTION ?? '', /between 1h and 8760h/);
    assert.match(issuesOf(() => loadConfig({ DROVER_SECRET_KEY: key, DROVER_EVENT_RETENTION: '7d' })).DROVER_EVENT_RETENTION ?? '', /duration/);
  });

  test('public databases are off by default; entry points and the resolver are Traefik names, ports 1–65535, `none` no resolver', () => {
    assert.deepEqual({ ...loadConfig({ DROVER_SECRET_KEY: key }).databasePublic }, { enabled: false, tlsEntrypoint: 'dbtls', tlsPort: 5432, mysqlEntrypoint: 'mysql', mysqlPort: 3306, certResolver: 'letsencrypt' });
    const on = loadConfig({ DROVER_SECRET_KEY: key, DROVER_DB_PUBLIC_ACCESS: 'true', DROVER_DB_TLS_ENTRYPOINT: 'db_tls', DROVER_DB_TLS_PORT: '15432', DROVER_DB_CERT_RESOLVER: 'none' }).databasePublic;
    assert.deepEqual([on.enabled, on.tlsEntrypoint, on.tlsPort, on.certResolver], [true, 'db_tls', 15432, '']);
    const sut = issuesOf(() => loadConfig({
      DROVER_SECRET_KEY: key, DROVER_DB_TLS_ENTRYPOINT: 'db tls', DROVER_DB_MYSQL_PORT: '70000', DROVER_DB_CERT_RESOLVER: 'le`)', DROVER_DB_PUBLIC_ACCESS: 'sometimes',
    }));
    assert.deepEqual(Object.keys(sut).sort(), ['DROVER_DB_CERT_RESOLVER', 'DROVER_DB_MYSQL_PORT', 'DROVER_DB_PUBLIC_ACCESS', 'DROVER_DB_TLS_ENTRYPOINT']);
  });

  test('reads DROVER_TRAEFIK_METRICS_URL (http or https, no credentials); unset means no network metrics', () => {
    assert.equal(loadConfig({ DROVER_SECRET_KEY: key }).traefikMetricsUrl, undefined);
    assert.equal(loadConfig({ DROVER_SECRET_KEY: key, DROVER_TRAEFIK_METRICS_URL: '' }).traefikMetricsUrl, undefined);
    assert.equal(loadConfig({ DROVER_SECRET_KEY: key, DROVER_TRAEFIK_METRICS_URL: 'http://10.0.0.5:8083/metrics' }).traefikMetricsUrl, 'http://10.0.0.5:8083/metrics');
    for (const bad of ['10.0.0.5:8083/metrics', 'ftp://10.0.0.5/metrics', 'http://user:pw@10.0.0.5:8083/metrics', 'http://10.0.0.5:8083/metrics#x']) {
      assert.deepEqual(Object.keys(issuesOf(() => loadConfig({ DROVER_SECRET_KEY: key, DROVER_TRAEFIK_METRICS_URL: bad }))), ['DROVER_TRAEFIK_METRICS_URL'], bad);
    }
  });

  test('reports a malformed DROVER_SECRET_KEY', () => {
    assert.deepEqual(Object.keys(issuesOf(() => loadConfig({ DROVER_SECRET_KEY: 'short' }))), ['DROVER_SECRET_KEY']);
  });

  test('reports a NOMAD_CACERT that cannot be read', () => {
    const sut = issuesOf(() => loadConfig({ DROVER_SECRET_KEY: key, NOMAD_CACERT: '/nonexistent/ca.pem' }));
    assert.match(sut.NOMAD_CACERT ?? '', /cannot read/);
  });

  test('reads NOMAD_CACERT contents', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nx\n');
    assert.match(loadConfig({ DROVER_SECRET_KEY: key, NOMAD_CACERT: join(dir, 'ca.pem') }).nomad.tls?.ca ?? '', /BEGIN CERTIFICATE/);
  });

  test('returns a deeply frozen object', () => {
    const sut = loadConfig({ DROVER_SECRET_KEY: key, VAULT_ADDR: 'http://v:8200' });
    assert.ok(Object.isFrozen(sut));
    assert.ok(Object.isFrozen(sut.nomad));
    assert.ok(Object.isFrozen(sut.vault));
    assert.throws(() => { (sut as { port: number }).port = 1; }, TypeError);
  });
});

describe('configReference', () => {
  test('documents every variable loadConfig reads, with the HashiCorp names', () => {
    const names = configReference.map((e) => e.name);
    for (const n of ['NODE_ENV', 'DROVER_PORT', 'DROVER_DATA_DIR', 'DROVER_SECRET_KEY', 'DATABASE_URL', 'REDIS_URL',
      'NOMAD_ADDR', 'NOMAD_TOKEN', 'NOMAD_NAMESPACE', 'NOMAD_REGION', 'NOMAD_CACERT', 'CONSUL_HTTP_ADDR', 'CONSUL_HTTP_TOKEN',
      'VAULT_ADDR', 'VAULT_TOKEN']) assert.ok(names.includes(n), n);
    assert.equal(new Set(names).size, names.length);
    const source = readFileSync(new URL('./config.ts', import.meta.url), 'utf8');
    const read = new Set([...source.matchAll(/\b((?:DROVER|NOMAD|CONSUL|VAULT)_[A-Z_]+|NODE_ENV|DATABASE_URL|REDIS_URL)\b/g)].map((m) => m[1]));
    for (const n of read) assert.ok(names.includes(n!), `${n} is read but not documented`);
  });

  test('renders the README table with one row per variable', () => {
    const sut = renderConfigTable().split('\n');
    assert.equal(sut.length, configReference.length + 2);
    assert.match(sut[2] ?? '', /^\| `NODE_ENV` \|/);
  });
});
