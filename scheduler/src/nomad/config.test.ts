import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NomadConfigError, nomadConfigFromEnv } from './config.ts';

const pems: Record<string, string> = { '/etc/nomad/ca.pem': 'CA-PEM', '/etc/nomad/cli.pem': 'CERT-PEM', '/etc/nomad/cli-key.pem': 'KEY-PEM' };
const readFile = (p: string): string => {
  const v = pems[p];
  if (v === undefined) throw new Error('ENOENT');
  return v;
};

test('nomadConfigFromEnv reads every HashiCorp variable', () => {
  const sut = nomadConfigFromEnv({
    NOMAD_ADDR: 'https://nomad.internal:4646/',
    NOMAD_TOKEN: 'secret-token',
    NOMAD_NAMESPACE: 't-acme-0a1b2c3d',
    NOMAD_REGION: 'eu',
    NOMAD_CACERT: '/etc/nomad/ca.pem',
    NOMAD_CLIENT_CERT: '/etc/nomad/cli.pem',
    NOMAD_CLIENT_KEY: '/etc/nomad/cli-key.pem',
    NOMAD_TLS_SERVER_NAME: 'server.global.nomad',
    NOMAD_SKIP_VERIFY: 'false',
  }, {}, readFile);
  assert.deepEqual(sut, {
    address: 'https://nomad.internal:4646',
    token: 'secret-token',
    namespace: 't-acme-0a1b2c3d',
    region: 'eu',
    tls: { ca: 'CA-PEM', cert: 'CERT-PEM', key: 'KEY-PEM', serverName: 'server.global.nomad', skipVerify: false },
  });
});

test('explicit options win over the environment, and empty variables count as unset', () => {
  const sut = nomadConfigFromEnv({ NOMAD_ADDR: 'http://a:4646', NOMAD_TOKEN: '', NOMAD_NAMESPACE: 'x', NOMAD_SKIP_VERIFY: '1' },
    { address: 'http://b:4646', namespace: 'y', tls: { skipVerify: false } });
  assert.deepEqual(sut, { address: 'http://b:4646', namespace: 'y', tls: { skipVerify: false } });
});

test('defaults to http://127.0.0.1:4646 like the nomad CLI', () => {
  assert.deepEqual(nomadConfigFromEnv({}), { address: 'http://127.0.0.1:4646' });
});

test('malformed values are NomadConfigErrors naming the variable', () => {
  const cases: Array<[Record<string, string>, string]> = [
    [{ NOMAD_ADDR: 'not a url' }, 'NOMAD_ADDR'],
    [{ NOMAD_ADDR: 'ftp://x' }, 'NOMAD_ADDR'],
    [{ NOMAD_ADDR: 'http://user:pw@x:4646' }, 'NOMAD_ADDR'],
    [{ NOMAD_SKIP_VERIFY: 'maybe' }, 'NOMAD_SKIP_VERIFY'],
    [{ NOMAD_CLIENT_CERT: '/etc/nomad/cli.pem' }, 'NOMAD_CLIENT_CERT'],
    [{ NOMAD_CACERT: '/missing.pem' }, 'NOMAD_CACERT'],
  ];
  for (const [env, variable] of cases) {
    assert.throws(() => nomadConfigFromEnv(env, {}, readFile), (e: unknown) => e instanceof NomadConfigError && e.variable === variable, JSON.stringify(env));
  }
  assert.throws(() => nomadConfigFromEnv({ NOMAD_CACERT: '/etc/nomad/ca.pem' }), /no file reader/);
});
