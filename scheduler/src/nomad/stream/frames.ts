/**
 * Decoder of Nomad's framed streams (alloc logs and fs stream without `plain=true`): a sequence of JSON objects
 * `{Offset, Data, File, FileEvent}` concatenated with no separator guarantee, `{}` heartbeats between them, and
 * base64 payloads. The transport may split the bytes anywhere — inside a key, a base64 run, a multi-byte UTF-8
 * file name — so the decoder scans bytes, tracking string and escape state, and parses only whole objects.
 */
import { NomadStreamError } from '../errors.ts';

/** LogChunk is one decoded frame: the file it came from, the offset after it, its bytes and any file event. */
export interface LogChunk {
  /** file is the file the frame is from (e.g. `alloc/logs/web.stdout.0`); log rotation changes it. */
  file: string;
  /** offset is the frame's Offset: the position in `file` after this frame's data. Resume with origin=start&offset=. */
  offset: number;
  /** data is the decoded payload (empty for a pure file event). */
  data: Buffer;
  /** event is the FileEvent when Nomad reports one: `file truncated` or `file deleted`. */
  event?: string;
}

const OPEN = 0x7b; // {
const CLOSE = 0x7d; // }
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** maxFrameBytes bounds one frame (Nomad's frames carry at most 64 KiB of data, ~87 KiB in base64). */
export const maxFrameBytes = 4 * 1024 * 1024;

/**
 * JsonObjectSplitter cuts a byte stream of concatenated JSON objects (any whitespace between them) into whole
 * object byte ranges, whatever the chunking. State survives across push() calls.
 */
export class JsonObjectSplitter {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly maxBytes: number;

  constructor(maxBytes = maxFrameBytes) {
    this.maxBytes = maxBytes;
  }

  /**
   * push feeds bytes and returns the complete top-level objects they finish, as buffers. An object that lies
   * wholly inside `chunk` is returned as a view of it (no copy): use it before reusing the chunk's memory.
   */
  push(chunk: Uint8Array): Buffer[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let start = this.depth > 0 ? 0 : -1;
    let nextBackslash = -2; // cached position of the next backslash at or after i (-1: none left)
    let i = 0;
    while (i < buf.length) {
      if (this.inString) {
        // Skip through string contents in bulk: only `"` and `\` matter inside a string.
        if (this.escaped) {
          this.escaped = false;
          i++;
          continue;
        }
        const q = buf.indexOf(QUOTE, i);
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = buf.indexOf(BACKSLASH, i);
        if (nextBackslash !== -1 && (q === -1 || nextBackslash < q)) {
          this.escaped = true;
          i = nextBackslash + 1;
          continue;
        }
        if (q === -1) break; // the string goes on in the next chunk
        this.inString = false;
        i = q + 1;
        continue;
      }
      const b = buf[i] as number;
      if (this.depth === 0) {
        if (b === OPEN) {
          this.depth = 1;
          start = i;
        } else if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
          throw new NomadStreamError(`unexpected byte 0x${b.toString(16)} between frames`);
        }
        i++;
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN) this.depth++;
      else if (b === CLOSE) {
        this.depth--;
        if (this.depth === 0) {
          const piece = buf.subarray(start, i + 1);
          out.push(this.pendingLength > 0 ? Buffer.concat([...this.pending, piece]) : piece);
          this.pending = [];
          this.pendingLength = 0;
          start = -1;
        }
      }
      i++;
    }
    if (this.depth > 0 && start >= 0) {
      const rest = buf.subarray(start);
      this.pending.push(Buffer.from(rest));
      this.pendingLength += rest.length;
      if (this.pendingLength > this.maxBytes) throw new NomadStreamError(`frame larger than ${this.maxBytes} bytes`);
    }
    return out;
  }

  /** end asserts the stream stopped between objects; a cut-off object is a NomadStreamError. */
  end(): void {
    if (this.depth > 0) throw new NomadStreamError('stream ended inside a frame');
  }
}

interface RawFrame {
  Offset?: number;
  Data?: string | null;
  File?: string;
  FileEvent?: string;
}

/** decodeFrame turns one frame object into a LogChunk, or null for a `{}` heartbeat. */
export function decodeFrame(raw: Buffer): LogChunk | null {
  let f: RawFrame;
  try {
    f = JSON.parse(raw.toString('utf8')) as RawFrame;
  } catch {
    throw new NomadStreamError('malformed frame JSON');
  }
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new NomadStreamError('frame is not an object');
  const isHeartbeat = !f.Data && !f.FileEvent && !f.File && (f.Offset === undefined || f.Offset === 0);
  if (isHeartbeat) return null;
  const chunk: LogChunk = {
    file: typeof f.File === 'string' ? f.File : '',
    offset: typeof f.Offset === 'number' ? f.Offset : 0,
    data: typeof f.Data === 'string' && f.Data.length > 0 ? Buffer.from(f.Data, 'base64') : Buffer.alloc(0),
  };
  if (f.FileEvent) chunk.event = f.FileEvent;
  return chunk;
}

/** FrameDecoder decodes framed bytes incrementally: push() returns the chunks the bytes complete (heartbeats dropped). */
export class FrameDecoder {
  private readonly splitter: JsonObjectSplitter;

  constructor(maxBytes = maxFrameBytes) {
    this.splitter = new JsonObjectSplitter(maxBytes);
  }

  /** push feeds bytes and returns the decoded chunks they complete. */
  push(bytes: Uint8Array): LogChunk[] {
    const out: LogChunk[] = [];
    for (const raw of this.splitter.push(bytes)) {
      const c = decodeFrame(raw);
      if (c) out.push(c);
    }
    return out;
  }

  /** end asserts the input stopped on a frame boundary. */
  end(): void {
    this.splitter.end();
  }
}

/** decodeFrames decodes an async byte source of framed data into LogChunks (heartbeats dropped). */
export async function* decodeFrames(source: AsyncIterable<Uint8Array>): AsyncGenerator<LogChunk> {
  const d = new FrameDecoder();
  for await (const bytes of source) yield* d.push(bytes);
  d.end();
}

/** plainChunks wraps a plain (`plain=true`) log stream as chunks of one file, counting offsets from `startOffset`. */
export async function* plainChunks(source: AsyncIterable<Uint8Array>, file: string, startOffset = 0): AsyncGenerator<LogChunk> {
  let offset = startOffset;
  for await (const bytes of source) {
    const data = Buffer.from(bytes);
    offset += data.length;
    yield { file, offset, data };
  }
}
