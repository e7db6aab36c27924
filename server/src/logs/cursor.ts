/**
 * Log cursors: the SSE event id of a log event records the position reached in EVERY stream of the subscription
 * (allocation, task, stdout/stderr, log file rotation index, byte offset), so a reconnect with Last-Event-ID resumes
 * each stream exactly where the client stopped reading it.
 */

/** LogStreamType is stdout or stderr. */
export type LogStreamType = 'stdout' | 'stderr';

/** StreamPosition is how far a client has read one stream. */
export interface StreamPosition {
  /** allocId is the allocation's ID. */
  allocId: string;
  /** task is the task name. */
  task: string;
  /** type is stdout or stderr. */
  type: LogStreamType;
  /** fileIndex is the rotation index of the log file (`web.stdout.<n>`). */
  fileIndex: number;
  /** offset is the byte offset in that file after the last byte read. */
  offset: number;
}

const ENTRY = /^([0-9a-f-]{36})~([A-Za-z0-9_.-]{1,128})~([oe])~(\d{1,6})~(\d{1,15})$/;

/** streamKey names one stream of one allocation (`<alloc>/<task>/<type>`). */
export function streamKey(allocId: string, task: string, type: LogStreamType): string {
  return `${allocId}/${task}/${type}`;
}

/** fileIndexOf reads the rotation index from a Nomad log file name (`alloc/logs/web.stdout.3` → 3; unknown → 0). */
export function fileIndexOf(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m ? Number(m[1]) : 0;
}

/** encodeCursor writes positions as an SSE event id (`v1:` then `alloc~task~o|e~file~offset` joined by commas). */
export function encodeCursor(positions: Iterable<StreamPosition>): string {
  const parts: string[] = [];
  for (const p of positions) parts.push(`${p.allocId}~${p.task}~${p.type === 'stdout' ? 'o' : 'e'}~${p.fileIndex}~${p.offset}`);
  return `v1:${parts.join(',')}`;
}

/** decodeCursor parses a Last-Event-ID; anything malformed yields null (the client then starts afresh). */
export function decodeCursor(id: string | undefined): StreamPosition[] | null {
  if (!id || !id.startsWith('v1:') || id.length > 64 * 1024) return null;
  const body = id.slice(3);
  if (body === '') return [];
  const out: StreamPosition[] = [];
  for (const part of body.split(',')) {
    const m = ENTRY.exec(part);
    if (!m) return null;
    out.push({ allocId: m[1] as string, task: m[2] as string, type: m[3] === 'o' ? 'stdout' : 'stderr', fileIndex: Number(m[4]), offset: Number(m[5]) });
  }
  return out;
}
