import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FrameDecoder, decodeFrames, JsonObjectSplitter } from './frames.ts';
import type { LogChunk } from './frames.ts';
import { NomadStreamError } from '../errors.ts';
import { validateNomad } from '../../contracts/index.ts';

interface FrameSpec {
  kind: 'data' | 'heartbeat' | 'event';
  file: string;
  offset: number;
  data: Uint8Array;
  event: string;
}

const frameArb: fc.Arbitrary<FrameSpec> = fc.record({
  kind: fc.constantFrom('data', 'data', 'data', 'heartbeat', 'event'),
  file: fc.oneof(fc.constant('alloc/logs/web.stdout.0'), fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => `alloc/logs/${s}"{}\\.stderr.1`)),
  offset: fc.nat({ max: 1_000_000 }),
  data: fc.uint8Array({ minLength: 1, maxLength: 96 }),
  event: fc.constantFrom('file truncated', 'file deleted'),
});

const sepArb = fc.constantFrom('', '', '\n', ' ', '\r\n', '\t\n ');

/** toWire serializes frames as Nomad's StreamFramer does: JSON objects back to back, optional whitespace. */
function toWire(frames: FrameSpec[], seps: string[]): Buffer {
  const parts: string[] = [];
  frames.forEach((f, i) => {
    let obj: Record<string, unknown>;
    if (f.kind === 'heartbeat') obj = {};
    else if (f.kind === 'event') obj = { File: f.file, FileEvent: f.event, Offset: 0 };
    else obj = { Offset: f.offset, Data: Buffer.from(f.data).toString('base64'), File: f.file };
    assert.deepEqual(validateNomad('StreamFrame', obj), []);
    parts.push(JSON.stringify(obj), seps[i % Math.max(1, seps.length)] ?? '');
  });
  return Buffer.from(parts.join(''), 'utf8');
}

function expected(frames: FrameSpec[]): LogChunk[] {
  return frames.filter((f) => f.kind !== 'heartbeat').map((f) => (f.kind === 'event'
    ? { file: f.file, offset: 0, data: Buffer.alloc(0), event: f.event }
    : { file: f.file, offset: f.offset, data: Buffer.from(f.data) }));
}

function decodeSplit(wire: Buffer, cuts: number[]): LogChunk[] {
  const sut = new FrameDecoder();
  const out: LogChunk[] = [];
  let prev = 0;
  for (const c of [...cuts, wire.length]) {
    out.push(...sut.push(wire.subarray(prev, c)));
    prev = c;
  }
  sut.end();
  return out;
}

test('framed log decoder yields the same chunks whatever single split point the transport picks', () => {
  fc.assert(fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(sepArb, { maxLength: 6 }), (frames, seps) => {
    const wire = toWire(frames, seps);
    const want = expected(frames);
    assert.deepEqual(decodeSplit(wire, []), want);
    for (let i = 0; i <= wire.length; i++) assert.deepEqual(decodeSplit(wire, [i]), want, `split at ${i}`);
  }), { numRuns: 60 });
});

test('framed log decoder is indifferent to random multi-splits, including one byte at a time', () => {
  fc.assert(fc.property(
    fc.array(frameArb, { minLength: 1, maxLength: 10 }),
    fc.array(sepArb, { maxLength: 10 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 40 }),
    (frames, seps, fractions) => {
      const wire = toWire(frames, seps);
      const cuts = [...new Set(fractions.map((f) => Math.floor(f * wire.length)))].sort((a, b) => a - b);
      assert.deepEqual(decodeSplit(wire, cuts), expected(frames));
      assert.deepEqual(decodeSplit(wire, Array.from({ length: wire.length }, (_, i) => i)), expected(frames));
    },
  ), { numRuns: 200 });
});

test('decodeFrames reads an async byte source and drops {} heartbeats', async () => {
  const wire = Buffer.from('{}{"Offset":5,"Data":"aGVsbG8=","File":"alloc/logs/a.stdout.0"}\n{}{"File":"alloc/logs/a.stdout.0","FileEvent":"file truncated"}');
  async function* source(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < wire.length; i += 7) yield wire.subarray(i, i + 7);
  }
  const got: LogChunk[] = [];
  for await (const c of decodeFrames(source())) got.push(c);
  assert.deepEqual(got, [
    { file: 'alloc/logs/a.stdout.0', offset: 5, data: Buffer.from('hello') },
    { file: 'alloc/logs/a.stdout.0', offset: 0, data: Buffer.alloc(0), event: 'file truncated' },
  ]);
});

test('a stream cut inside a frame, garbage between frames, or an oversized frame is a NomadStreamError', () => {
  const cut = new FrameDecoder();
  cut.push(Buffer.from('{"Offset":1,"Da'));
  assert.throws(() => cut.end(), NomadStreamError);
  assert.throws(() => new FrameDecoder().push(Buffer.from('{} x {}')), NomadStreamError);
  const small = new JsonObjectSplitter(16);
  assert.throws(() => small.push(Buffer.from('{"Data":"AAAAAAAAAAAAAAAAAAAAAAAA')), NomadStreamError);
});
