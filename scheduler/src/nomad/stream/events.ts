/**
 * Decoder of Nomad's event stream (`/v1/event/stream`): newline-delimited JSON objects `{Index, Events}` with `{}`
 * heartbeats every few seconds. Lines may be split anywhere by the transport; the decoder cuts on the newline
 * byte and parses whole lines only.
 */
import { NomadStreamError } from '../errors.ts';
import type { Event } from '../types.ts';

/** EventBatch is one line of the event stream: every event Nomad applied at one Raft index. */
export interface EventBatch {
  /** index is the Raft index of the batch; resume a stream with `index + 1` to skip what was seen. */
  index: number;
  /** events are the events at that index (topic, type, key, payload). */
  events: Event[];
}

/** maxEventLineBytes bounds one line (a Job payload can be large). */
export const maxEventLineBytes = 16 * 1024 * 1024;

function isBlank(line: Buffer): boolean {
  for (const b of line) if (b !== 0x20 && b !== 0x09 && b !== 0x0d && b !== 0x0a) return false;
  return true;
}

/** NdjsonSplitter cuts bytes into lines at `\n`, whatever the chunking; blank lines are dropped. */
export class NdjsonSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private readonly maxBytes: number;

  constructor(maxBytes = maxEventLineBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * push feeds bytes and returns the complete lines (without the newline) they finish; a line wholly inside
   * `chunk` is a view of it (no copy): use it before reusing the chunk's memory.
   */
  push(chunk: Uint8Array): Buffer[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      const piece = buf.subarray(start, nl);
      const line = this.pendingLength > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingLength = 0;
      if (!isBlank(line)) out.push(line);
      start = nl + 1;
    }
    if (start < buf.length) {
      const rest = buf.subarray(start);
      this.pending.push(Buffer.from(rest));
      this.pendingLength += rest.length;
      if (this.pendingLength > this.maxBytes) throw new NomadStreamError(`event line larger than ${this.maxBytes} bytes`);
    }
    return out;
  }

  /** end returns a last line that had no trailing newline, if any. */
  end(): Buffer[] {
    const line = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingLength = 0;
    return isBlank(line) ? [] : [line];
  }
}

interface RawEvents {
  Index?: number;
  Events?: Event[] | null;
  Err?: unknown;
}

/** decodeEventLine parses one line into an EventBatch, null for a `{}` heartbeat; an `Err` line is a NomadStreamError. */
export function decodeEventLine(line: Buffer): EventBatch | null {
  let v: RawEvents;
  try {
    v = JSON.parse(line.toString('utf8')) as RawEvents;
  } catch {
    throw new NomadStreamError('malformed event stream line');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new NomadStreamError('event stream line is not an object');
  if (v.Err !== undefined && v.Err !== null && v.Err !== '') {
    throw new NomadStreamError(`event stream error: ${typeof v.Err === 'string' ? v.Err : JSON.stringify(v.Err)}`);
  }
  if (v.Index === undefined && (v.Events === undefined || v.Events === null)) return null;
  return { index: v.Index ?? 0, events: v.Events ?? [] };
}

/** EventStreamDecoder decodes event-stream bytes incrementally (heartbeats dropped). */
export class EventStreamDecoder {
  private readonly splitter: NdjsonSplitter;

  constructor(maxBytes = maxEventLineBytes) {
    this.splitter = new NdjsonSplitter(maxBytes);
  }

  /** push feeds bytes and returns the batches they complete. */
  push(bytes: Uint8Array): EventBatch[] {
    const out: EventBatch[] = [];
    for (const line of this.splitter.push(bytes)) {
      const b = decodeEventLine(line);
      if (b) out.push(b);
    }
    return out;
  }

  /** end decodes a final line without a newline. */
  end(): EventBatch[] {
    const out: EventBatch[] = [];
    for (const line of this.splitter.end()) {
      const b = decodeEventLine(line);
      if (b) out.push(b);
    }
    return out;
  }
}

/** decodeEventStream decodes an async byte source into EventBatches. */
export async function* decodeEventStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<EventBatch> {
  const d = new EventStreamDecoder();
  for await (const bytes of source) yield* d.push(bytes);
  yield* d.end();
}
