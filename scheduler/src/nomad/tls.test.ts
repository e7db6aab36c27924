import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomadClient } from './client.ts';
import { NomadConnectionError } from './errors.ts';
import { nomadConfigFromEnv } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'drover-nomad-tls-'));
const file = (n: string): string => join(dir, n);

function openssl(...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** issue makes a key and a certificate signed by the test CA with the given subjectAltName. */
function issue(name: string, san: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  writeFileSync(file(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
}

let server: Server;
let port = 0;
const fastRetry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 };

before(async () => {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=drover-test-ca');
  issue('server', 'DNS:server.global.nomad');
  issue('client', 'DNS:cli.global.nomad');
  server = createServer({
    key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')),
    requestCert: true, rejectUnauthorized: true,
  }, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-nomad-index': '3' });
    res.end(JSON.stringify('10.0.0.1:4647'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    NOMAD_ADDR: `https://127.0.0.1:${port}`,
    NOMAD_CACERT: file('ca.pem'),
    NOMAD_CLIENT_CERT: file('client.pem'),
    NOMAD_CLIENT_KEY: file('client.key'),
    NOMAD_TLS_SERVER_NAME: 'server.global.nomad',
    ...extra,
  };
}

test('mutual TLS with NOMAD_CACERT, NOMAD_CLIENT_CERT/KEY and NOMAD_TLS_SERVER_NAME from the environment', async () => {
  const sut = new NomadClient(nomadConfigFromEnv(env(), { retry: fastRetry }, (p) => readFileSync(p, 'utf8')));
  try {
    assert.equal(await sut.status.leader(), '10.0.0.1:4647');
  } finally {
    await sut.destroy();
  }
});

test('a server certificate that does not match the expected name, an unknown CA, or no client certificate fail as NomadConnectionError', async () => {
  const read = (p: string): string => readFileSync(p, 'utf8');
  const variants: Array<Record<string, string>> = [
    env({ NOMAD_TLS_SERVER_NAME: 'other.global.nomad' }),
    env({ NOMAD_CACERT: '' }),
    { NOMAD_ADDR: `https://127.0.0.1:${port}`, NOMAD_CACERT: file('ca.pem'), NOMAD_TLS_SERVER_NAME: 'server.global.nomad' },
  ];
  for (const e of variants) {
    const sut = new NomadClient(nomadConfigFromEnv(e, { retry: fastRetry }, read));
    try {
      await assert.rejects(sut.status.leader(), NomadConnectionError, JSON.stringify(Object.keys(e)));
    } finally {
      await sut.destroy();
    }
  }
});

test('NOMAD_SKIP_VERIFY accepts an unverifiable server certificate (client certificate still presented)', async () => {
  const sut = new NomadClient(nomadConfigFromEnv(env({ NOMAD_CACERT: '', NOMAD_TLS_SERVER_NAME: '', NOMAD_SKIP_VERIFY: 'true' }), { retry: fastRetry }, (p) => readFileSync(p, 'utf8')));
  try {
    assert.equal(await sut.status.leader(), '10.0.0.1:4647');
  } finally {
    await sut.destroy();
  }
});
