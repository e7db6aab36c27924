import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EventStreamDecoder, decodeEventStream } from './events.ts';
import type { EventBatch } from './events.ts';
import { NomadStreamError } from '../errors.ts';
import { validateNomad } from '../../contracts/index.ts';

const eventArb = fc.record({
  Topic: fc.constantFrom('Job', 'Allocation', 'Deployment', 'Evaluation', 'Node'),
  Type: fc.constantFrom('JobRegistered', 'AllocationUpdated', 'DeploymentStatusUpdate'),
  Key: fc.string({ unit: 'grapheme', maxLength: 10 }),
  Index: fc.nat({ max: 10_000 }),
  Payload: fc.dictionary(fc.string({ maxLength: 5 }), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.integer())),
});
const lineArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ Index: fc.nat({ max: 10_000 }), Events: fc.array(eventArb, { minLength: 1, maxLength: 3 }) }) },
  { weight: 1, arbitrary: fc.constant({}) },
);

function toWire(lines: object[]): Buffer {
  for (const l of lines) assert.deepEqual(validateNomad('Events', l), []);
  return Buffer.from(lines.map((l) => `${JSON.stringify(l)}\n`).join(''), 'utf8');
}

function expected(input: Array<{ Index?: number; Events?: unknown[] }>): EventBatch[] {
  const lines = JSON.parse(JSON.stringify(input)) as typeof input; // plain prototypes, as JSON.parse builds them
  return lines.filter((l) => l.Index !== undefined).map((l) => ({ index: l.Index ?? 0, events: (l.Events ?? []) as EventBatch['events'] }));
}

function decodeSplit(wire: Buffer, cuts: number[]): EventBatch[] {
  const sut = new EventStreamDecoder();
  const out: EventBatch[] = [];
  let prev = 0;
  for (const c of [...cuts, wire.length]) {
    out.push(...sut.push(wire.subarray(prev, c)));
    prev = c;
  }
  out.push(...sut.end());
  return out;
}

test('event stream decoder yields the same batches whatever single split point the transport picks', () => {
  fc.assert(fc.property(fc.array(lineArb, { minLength: 1, maxLength: 5 }), (lines) => {
    const wire = toWire(lines);
    const want = expected(lines);
    for (let i = 0; i <= wire.length; i++) assert.deepEqual(decodeSplit(wire, [i]), want, `split at ${i}`);
  }), { numRuns: 40 });
});

test('event stream decoder is indifferent to random multi-splits', () => {
  fc.assert(fc.property(
    fc.array(lineArb, { minLength: 1, maxLength: 8 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 30 }),
    (lines, fractions) => {
      const wire = toWire(lines);
      const cuts = [...new Set(fractions.map((f) => Math.floor(f * wire.length)))].sort((a, b) => a - b);
      assert.deepEqual(decodeSplit(wire, cuts), expected(lines));
    },
  ), { numRuns: 300 });
});

test('a last line without newline is decoded at the end; an Err line is a NomadStreamError', async () => {
  async function* source(): AsyncGenerator<Uint8Array> {
    yield Buffer.from('{}\n{"Index":7,"Events":[{"Topic":"Job","Type":"JobRegistered","Key":"web","Index":7}]}\n{"Ind');
    yield Buffer.from('ex":8,"Events":[]}');
  }
  const got: EventBatch[] = [];
  for await (const b of decodeEventStream(source())) got.push(b);
  assert.deepEqual(got.map((b) => b.index), [7, 8]);
  assert.throws(() => new EventStreamDecoder().push(Buffer.from('{"Err":"permission denied"}\n')), NomadStreamError);
  assert.throws(() => new EventStreamDecoder().push(Buffer.from('not json\n')), NomadStreamError);
});
