/**
 * Log positions across Nomad's log rotation. Nomad's logmon writes `<task>.<type>.<index>` files, starting a new index
 * at the task's `max_file_size` and deleting the oldest beyond `max_files`. A log frame's `Offset` is the position in
 * ITS file (`File`) after its data, but the logs API's `origin=start&offset=` counts bytes across the files still kept,
 * from the oldest (`findClosest` in Nomad's client/fs_endpoint.go). So a position is (file index, offset in that file),
 * and resuming from one means listing the log directory (file sizes) and adding up the kept files before it. When the
 * file was rotated out, or the listing and the read disagree, exact resume is impossible: callers send a `gap` notice.
 */
import type { LogChunk, NomadClient } from '@drover/scheduler/nomad/index.ts';
import { fileIndexOf, type LogStreamType } from './cursor.ts';

/** LogPosition is a point in one stream: the rotation index of a file and a byte offset in it. */
export interface LogPosition {
  /** fileIndex is the rotation index (`web.stdout.<fileIndex>`). */
  fileIndex: number;
  /** offset is the byte offset in that file. */
  offset: number;
}

/** LogFile is one kept log file of a stream, with its size when listed. */
export interface LogFile {
  /** index is the rotation index. */
  index: number;
  /** size is the size in bytes. */
  size: number;
}

/** GapReason says why lines may be missing: the file was rotated out, the read skipped ahead, or the position is unknown or past the file's end. */
export type GapReason = 'rotated_out' | 'skipped' | 'unknown_position' | 'truncated' | 'unverified';

/** Located is where to read from to resume at a position. */
export interface Located {
  /** offset is the `origin=start` offset for Nomad's logs API. */
  offset: number;
  /** exact is false when the position cannot be resumed exactly (`reason` says why; lines may be missing). */
  exact: boolean;
  /** reason is set when not exact. */
  reason?: GapReason;
  /** expected is the position the first byte read must start at (or before) when exact. */
  expected: LogPosition;
}

/** comparePositions orders positions (negative when a is before b). */
export function comparePositions(a: LogPosition, b: LogPosition): number {
  return a.fileIndex !== b.fileIndex ? a.fileIndex - b.fileIndex : a.offset - b.offset;
}

/** chunkStart is the position of a chunk's first byte. */
export function chunkStart(c: LogChunk): LogPosition {
  return { fileIndex: fileIndexOf(c.file), offset: c.offset - c.data.length };
}

/** chunkEnd is the position after a chunk's last byte. */
export function chunkEnd(c: LogChunk): LogPosition {
  return { fileIndex: fileIndexOf(c.file), offset: c.offset };
}

/**
 * locate maps `pos` to Nomad's cumulative `origin=start` offset over `files` (the kept files of the stream, any order):
 * exact when its file is kept and the offset within it; from the oldest kept file (rotated_out) when it was deleted;
 * at the current end when it is past every file (unknown_position) or past its file's end (truncated).
 */
export function locate(files: readonly LogFile[], pos: LogPosition): Located {
  const sorted = [...files].sort((a, b) => a.index - b.index);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (!first || !last) return { offset: 0, exact: true, expected: { fileIndex: pos.fileIndex, offset: 0 } };
  const total = sorted.reduce((n, f) => n + f.size, 0);
  const endPos = { fileIndex: last.index, offset: last.size };
  if (pos.fileIndex < first.index) return { offset: 0, exact: false, reason: 'rotated_out', expected: { fileIndex: first.index, offset: 0 } };
  if (pos.fileIndex > last.index) return { offset: total, exact: false, reason: 'unknown_position', expected: endPos };
  let before = 0;
  for (const f of sorted) {
    if (f.index < pos.fileIndex) {
      before += f.size;
      continue;
    }
    if (f.index > pos.fileIndex) {
      // A hole in the kept indexes: the position's file is gone.
      return { offset: before, exact: false, reason: 'rotated_out', expected: { fileIndex: f.index, offset: 0 } };
    }
    if (pos.offset > f.size) return { offset: before + f.size, exact: false, reason: 'truncated', expected: { fileIndex: f.index, offset: f.size } };
    break;
  }
  // The first byte to come is at pos, or — when pos is at the end of its file — at the start of the next kept file.
  let expected: LogPosition = { ...pos };
  for (const f of sorted) {
    if (f.index < expected.fileIndex) continue;
    if (f.index === expected.fileIndex && expected.offset < f.size) break;
    if (f.index > expected.fileIndex) expected = { fileIndex: f.index, offset: 0 };
    if (expected.offset < f.size) break;
  }
  return { offset: before + pos.offset, exact: true, expected };
}

/** endOf is where the stream ends now: its `origin=start` offset and position (nothing kept: 0, file 0). */
export function endOf(files: readonly LogFile[]): { offset: number; position: LogPosition } {
  const sorted = [...files].sort((a, b) => a.index - b.index);
  const last = sorted.at(-1);
  return { offset: sorted.reduce((n, f) => n + f.size, 0), position: last ? { fileIndex: last.index, offset: last.size } : { fileIndex: 0, offset: 0 } };
}

/** listLogFiles lists the kept log files of one task stream (GET /v1/client/fs/ls/:alloc?path=alloc/logs). */
export async function listLogFiles(
  nomad: NomadClient, source: { namespace: string; allocId: string; task: string; type: LogStreamType }, signal?: AbortSignal,
): Promise<LogFile[]> {
  const r = await nomad.fs.ls(source.allocId, 'alloc/logs', { namespace: source.namespace, ...(signal ? { signal } : {}) });
  const prefix = `${source.task}.${source.type}.`;
  const out: LogFile[] = [];
  for (const e of r.data ?? []) {
    if (e.IsDir || !e.Name.startsWith(prefix)) continue;
    const rest = e.Name.slice(prefix.length);
    if (!/^\d{1,9}$/.test(rest)) continue;
    out.push({ index: Number(rest), size: e.Size });
  }
  return out.sort((a, b) => a.index - b.index);
}
