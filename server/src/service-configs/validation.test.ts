import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { fieldErrors } from '../http/validate.ts';
import {
  artifactUrlProblem, commandElementProblem, cronProblem, finishConfig, imageProblem, mountProblem, ServiceConfigFields, timezoneProblem,
} from './validation.ts';

const Fields = z.object(ServiceConfigFields).strict();

/** paths parses a body and applies the cross-field rules, returning every error path. */
function paths(body: Record<string, unknown>): string[] {
  const r = Fields.safeParse(body);
  if (!r.success) return fieldErrors('body', r.error).map((e) => e.path);
  const f = finishConfig(r.data);
  return 'errors' in f ? f.errors.map((e) => e.path) : [];
}

describe('service configuration rules (manifest.md)', () => {
  it('accepts the manifest examples', () => {
    assert.deepEqual(paths({ image: 'ghcr.io/acme/web:1.4.2', command: ['node', 'server.js'], port: 8080, public: true, healthcheck: { path: '/healthz', interval: '10s', timeout: '2s' }, replicas: 2, resources: { cpu: 500, memory: 512, memory_max: 1024 }, restart: 'always' }), []);
    assert.deepEqual(paths({ image: 'ghcr.io/acme/uploads:3', port: 9090, public: false, volumes: [{ name: 'files', mount: '/data', size: '1GiB' }] }), []);
    assert.deepEqual(paths({ artifact: { url: 'https://releases.example.com/api-1.2.0-linux-amd64.tar.gz', checksum: `sha256:${'a'.repeat(64)}`, command: ['./api', '--listen', ':${PORT}'] }, public: false }), []);
    assert.deepEqual(paths({ image: 'ghcr.io/acme/report:2', cron: '0 3 * * *', timezone: 'Europe/Berlin' }), []);
  });

  it('defaults: public when something can be routed, one replica, restart always, 100 MHz / 256 MiB', () => {
    const r = finishConfig({ image: 'nginx:1.27', port: 80 });
    assert.ok('config' in r);
    assert.equal(r.config.public, true);
    assert.equal(r.config.replicas, 1);
    assert.equal(r.config.restart, 'always');
    assert.deepEqual(r.config.resources, { cpu: 100, memory: 256 });
    const worker = finishConfig({ image: 'nginx:1.27' });
    assert.ok('config' in worker && worker.config.public === false);
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['neither image nor artifact', { port: 80 }, 'body.image'],
    ['both image and artifact', { image: 'a:1', artifact: { url: 'https://x.example/a', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] } }, 'body.artifact'],
    ['bad image', { image: 'UPPER/Case:1' }, 'body.image'],
    ['image with spaces', { image: 'a b' }, 'body.image'],
    ['artifact with a port', { artifact: { url: 'https://x.example/a', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] }, port: 80 }, 'body.port'],
    ['artifact ftp url', { artifact: { url: 'ftp://x.example/a', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] } }, 'body.artifact.url'],
    ['artifact metadata url', { artifact: { url: 'http://169.254.169.254/latest', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] } }, 'body.artifact.url'],
    ['artifact loopback url', { artifact: { url: 'http://127.0.0.1/a', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] } }, 'body.artifact.url'],
    ['artifact private url', { artifact: { url: 'https://10.1.2.3/a', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] } }, 'body.artifact.url'],
    ['artifact v6 loopback', { artifact: { url: 'http://[::1]/a', checksum: `sha256:${'a'.repeat(64)}`, command: ['a'] } }, 'body.artifact.url'],
    ['artifact bad checksum', { artifact: { url: 'https://x.example/a', checksum: 'md5:abc', command: ['a'] } }, 'body.artifact.checksum'],
    ['artifact upper-case checksum', { artifact: { url: 'https://x.example/a', checksum: `sha256:${'A'.repeat(64)}`, command: ['a'] } }, 'body.artifact.checksum'],
    ['artifact without command', { artifact: { url: 'https://x.example/a', checksum: `sha256:${'a'.repeat(64)}` } }, 'body.artifact.command'],
    ['command interpolation', { image: 'a:1', command: ['echo', '${attr.unique.hostname}'] }, 'body.command[1]'],
    ['command unterminated', { image: 'a:1', command: ['echo', '${PORT'] }, 'body.command[1]'],
    ['command empty', { image: 'a:1', command: [] }, 'body.command'],
    ['command not argv', { image: 'a:1', command: 'node server.js' }, 'body.command'],
    ['public image without port', { image: 'a:1', public: true }, 'body.port'],
    ['port out of range', { image: 'a:1', port: 70000 }, 'body.port'],
    ['healthcheck path', { image: 'a:1', port: 80, healthcheck: { path: 'healthz' } }, 'body.healthcheck.path'],
    ['healthcheck interpolation', { image: 'a:1', port: 80, healthcheck: { path: '/${NOMAD_META_x}' } }, 'body.healthcheck.path'],
    ['healthcheck interval', { image: 'a:1', port: 80, healthcheck: { path: '/', interval: '10 s' } }, 'body.healthcheck.interval'],
    ['healthcheck timeout > interval', { image: 'a:1', port: 80, healthcheck: { path: '/', interval: '2s', timeout: '5s' } }, 'body.healthcheck.timeout'],
    ['replicas negative', { image: 'a:1', replicas: -1 }, 'body.replicas'],
    ['replicas fractional', { image: 'a:1', replicas: 1.5 }, 'body.replicas'],
    ['cpu zero', { image: 'a:1', resources: { cpu: 0 } }, 'body.resources.cpu'],
    ['memory_max < memory', { image: 'a:1', resources: { memory: 512, memory_max: 256 } }, 'body.resources.memory_max'],
    ['restart policy', { image: 'a:1', restart: 'sometimes' }, 'body.restart'],
    ['cron four fields', { image: 'a:1', cron: '0 3 * *' }, 'body.cron'],
    ['cron out of range', { image: 'a:1', cron: '61 3 * * *' }, 'body.cron'],
    ['cron public', { image: 'a:1', port: 80, public: true, cron: '0 3 * * *' }, 'body.public'],
    ['timezone unknown', { image: 'a:1', cron: '0 3 * * *', timezone: 'Mars/Olympus' }, 'body.timezone'],
    ['timezone without cron', { image: 'a:1', timezone: 'Europe/Berlin' }, 'body.timezone'],
    ['volume name', { image: 'a:1', volumes: [{ name: 'Bad_Name', mount: '/data', size: '1GiB' }] }, 'body.volumes[0].name'],
    ['volume mount relative', { image: 'a:1', volumes: [{ name: 'v', mount: 'data', size: '1GiB' }] }, 'body.volumes[0].mount'],
    ['volume mount traversal', { image: 'a:1', volumes: [{ name: 'v', mount: '/data/../etc', size: '1GiB' }] }, 'body.volumes[0].mount'],
    ['volume mount system path', { image: 'a:1', volumes: [{ name: 'v', mount: '/proc/x', size: '1GiB' }] }, 'body.volumes[0].mount'],
    ['volume size unit', { image: 'a:1', volumes: [{ name: 'v', mount: '/data', size: '1GB' }] }, 'body.volumes[0].size'],
    ['volume size zero', { image: 'a:1', volumes: [{ name: 'v', mount: '/data', size: '0GiB' }] }, 'body.volumes[0].size'],
    ['volumes with replicas', { image: 'a:1', replicas: 2, volumes: [{ name: 'v', mount: '/data', size: '1GiB' }] }, 'body.replicas'],
    ['duplicate volume name', { image: 'a:1', volumes: [{ name: 'v', mount: '/a', size: '1GiB' }, { name: 'v', mount: '/b', size: '1GiB' }] }, 'body.volumes[1].name'],
    ['overlapping mounts', { image: 'a:1', volumes: [{ name: 'v', mount: '/a', size: '1GiB' }, { name: 'w', mount: '/a/b', size: '1GiB' }] }, 'body.volumes[1].mount'],
    ['unknown key', { image: 'a:1', privileged: true }, 'body'],
  ];
  for (const [what, body, path] of bad) {
    it(`refuses ${what}, naming ${path}`, () => {
      assert.ok(paths(body).includes(path), `${what}: got ${JSON.stringify(paths(body))}`);
    });
  }

  it('checks the small validators directly', () => {
    assert.equal(commandElementProblem('${PORT}'), null);
    assert.equal(commandElementProblem('--listen=:${NOMAD_PORT_http}'), null);
    assert.notEqual(commandElementProblem('${env.HOME}'), null);
    assert.equal(cronProblem('*/15 0-6 1,15 jan-mar mon-fri'), null);
    assert.notEqual(cronProblem('@daily'), null);
    assert.equal(timezoneProblem('America/New_York'), null);
    assert.equal(imageProblem('registry.example.com:5000/team/app@sha256:' + 'a'.repeat(64)), null);
    assert.notEqual(artifactUrlProblem('https://user:pw@example.com/a'), null);
    assert.notEqual(artifactUrlProblem('https://example.com/a?archive=false'), null);
    assert.notEqual(artifactUrlProblem('http://metadata.google.internal/x'), null);
    assert.notEqual(artifactUrlProblem('http://[::ffff:127.0.0.1]/x'), null);
    assert.notEqual(artifactUrlProblem('http://0x7f000001/x'), null);
    assert.equal(mountProblem('/var/lib/data'), null);
    assert.notEqual(mountProblem('/'), null);
  });
});
