/**
 * Nomad client benchmark: throughput of the framed-log and event-stream decoders and of the client's reads, each
 * next to a baseline measured in the same run (decoders: JSON.parse + base64 of pre-cut frames/lines, i.e. the
 * unavoidable work; client: a bare undici Pool request loop to the same local server). Prints figures and ratios.
 *
 * Usage (Node 24): ./node_modules/.bin/node bench/nomad-client.ts
 */
import { Pool } from 'undici';
import { FrameDecoder } from '../scheduler/src/nomad/stream/frames.ts';
import { EventStreamDecoder } from '../scheduler/src/nomad/stream/events.ts';
import { NomadClient } from '../scheduler/src/nomad/client.ts';
import { sendJson, startTestServer } from '../scheduler/src/nomad/test-server.ts';

function time(fn: () => number): { seconds: number; units: number } {
  const t = performance.now();
  const units = fn();
  return { seconds: (performance.now() - t) / 1000, units };
}

async function timeAsync(fn: () => Promise<number>): Promise<{ seconds: number; units: number }> {
  const t = performance.now();
  const units = await fn();
  return { seconds: (performance.now() - t) / 1000, units };
}

const MiB = 1048576;

// Framed logs: 64 KiB frames with a heartbeat after each, 128 MiB of log data cut into 16 KiB transport chunks.
const payload = Buffer.alloc(65536, 'x');
const frameText = JSON.stringify({ Offset: 65536, Data: payload.toString('base64'), File: 'alloc/logs/web.stdout.0' });
const wire = Buffer.from(`${frameText}{}`.repeat(64));
const rounds = 32;
const decoded = time(() => {
  let bytes = 0;
  for (let r = 0; r < rounds; r++) {
    const d = new FrameDecoder();
    for (let i = 0; i < wire.length; i += 16384) for (const c of d.push(wire.subarray(i, i + 16384))) bytes += c.data.length;
    d.end();
  }
  return bytes;
});
const frameBaseline = time(() => {
  let bytes = 0;
  for (let r = 0; r < rounds * 64; r++) {
    const f = JSON.parse(frameText) as { Data: string };
    bytes += Buffer.from(f.Data, 'base64').length;
  }
  return bytes;
});
const logRate = decoded.units / MiB / decoded.seconds;
const logBase = frameBaseline.units / MiB / frameBaseline.seconds;
console.log(`framed logs   ${logRate.toFixed(0)} MiB/s of log data (${((wire.length * rounds) / MiB / decoded.seconds).toFixed(0)} MiB/s on the wire); baseline JSON.parse+base64 ${logBase.toFixed(0)} MiB/s; ratio ${(logRate / logBase).toFixed(2)}`);

// Event stream: 100 000 NDJSON lines of ~250 bytes cut into 8 KiB chunks.
const lineText = JSON.stringify({ Index: 5, Events: [{ Topic: 'Allocation', Type: 'AllocationUpdated', Key: 'a'.repeat(36), Index: 5, Payload: { Allocation: { ID: 'x'.repeat(36), ClientStatus: 'running' } } }] });
const eventWire = Buffer.from(`${lineText}\n`.repeat(100_000));
const events = time(() => {
  const d = new EventStreamDecoder();
  let n = 0;
  for (let i = 0; i < eventWire.length; i += 8192) n += d.push(eventWire.subarray(i, i + 8192)).length;
  return n + d.end().length;
});
const eventBaseline = time(() => {
  let n = 0;
  for (let i = 0; i < 100_000; i++) if (JSON.parse(lineText)) n++;
  return n;
});
console.log(`event stream  ${(events.units / events.seconds / 1000).toFixed(0)}k batches/s; baseline JSON.parse ${(eventBaseline.units / eventBaseline.seconds / 1000).toFixed(0)}k/s; ratio ${(events.units / events.seconds / (eventBaseline.units / eventBaseline.seconds)).toFixed(2)}`);

// Client reads over keep-alive against a local node:http server, next to a bare undici Pool.
const server = await startTestServer((_req, res) => sendJson(res, 200, { ID: 'j', Namespace: 'default' }, { 'X-Nomad-Index': '7', 'X-Nomad-KnownLeader': 'true' }));
const sut = new NomadClient({ address: server.url, token: 'bench' });
const pool = new Pool(server.url, { connections: 16 });
const n = 5000;
const bare = async (): Promise<void> => {
  const r = await pool.request({ method: 'GET', path: '/v1/job/j?namespace=default', headers: { 'x-nomad-token': 'bench' } });
  JSON.parse(await r.body.text());
};
for (let i = 0; i < 300; i++) {
  await sut.jobs.info('j');
  await bare();
}
const clientSeq = await timeAsync(async () => {
  for (let i = 0; i < n; i++) await sut.jobs.info('j');
  return n;
});
const bareSeq = await timeAsync(async () => {
  for (let i = 0; i < n; i++) await bare();
  return n;
});
const clientPar = await timeAsync(async () => (await Promise.all(Array.from({ length: n }, () => sut.jobs.info('j')))).length);
const barePar = await timeAsync(async () => {
  await Promise.all(Array.from({ length: n }, () => bare()));
  return n;
});
const rate = (x: { seconds: number; units: number }): number => x.units / x.seconds;
console.log(`client reads  sequential ${rate(clientSeq).toFixed(0)} req/s vs bare undici ${rate(bareSeq).toFixed(0)} (ratio ${(rate(clientSeq) / rate(bareSeq)).toFixed(2)}); 5000 concurrent ${rate(clientPar).toFixed(0)} req/s vs ${rate(barePar).toFixed(0)} (ratio ${(rate(clientPar) / rate(barePar)).toFixed(2)})`);
await sut.close();
await pool.close();
await server.close();
console.log(`peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
