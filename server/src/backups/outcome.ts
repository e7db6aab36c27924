/**
 * The rule that decides a backup: `succeeded` only when the dump task itself exited 0 (its own task state, never the
 * uploader's: poststop tasks run after a failed dump too) AND the object read back from the destination has exactly
 * the size and SHA-256 Drover computed from the dump file (read through Nomad's fs API). An ETag is never used: it is
 * not a checksum for multipart uploads. Everything else is `failed` with the reason.
 */

/** FileDigest is the size and SHA-256 (lower-case hex) of a file or object. */
export interface FileDigest {
  /** size is the byte count. */
  size: number;
  /** sha256 is the lower-case hex SHA-256 of the bytes. */
  sha256: string;
}

/** DumpTaskState is what Nomad reported for the dump task of the backup's allocation. */
export interface DumpTaskState {
  /** state is Nomad's task state (`pending`, `running`, `dead`). */
  state: string;
  /** failed is Nomad's Failed flag. */
  failed: boolean;
  /** exitCode is the exit code of its last `Terminated` event, null when it never terminated. */
  exitCode: number | null;
}

/** BackupVerdict is the outcome with its reason. */
export type BackupVerdict = { status: 'succeeded'; reason: null; digest: FileDigest } | { status: 'failed'; reason: string; digest: FileDigest | null };

/** BackupEvidence is everything the verdict rests on; null means it could not be read (and the backup fails). */
export interface BackupEvidence {
  /** dump is the dump task's state, null when the allocation has no such task. */
  dump: DumpTaskState | null;
  /** file is the dump file's digest read through Nomad's fs API, null when missing. */
  file: FileDigest | null;
  /** object is the uploaded object's digest read back from the destination, null when missing. */
  object: FileDigest | null;
  /** objectError is why the object could not be read (destination outage, 404…). */
  objectError?: string;
}

/** judgeBackup applies the rule to the evidence. */
export function judgeBackup(e: BackupEvidence): BackupVerdict {
  const fail = (reason: string): BackupVerdict => ({ status: 'failed', reason, digest: e.file });
  if (!e.dump) return fail('the dump task did not run');
  if (e.dump.state !== 'dead') return fail(`the dump task is ${e.dump.state}, not finished`);
  if (e.dump.exitCode === null) return fail('the dump task never exited (killed or not started)');
  if (e.dump.exitCode !== 0 || e.dump.failed) return fail(`the dump task exited with code ${e.dump.exitCode}`);
  if (!e.file) return fail('the dump file is missing from the allocation');
  if (e.file.size === 0) return fail('the dump file is empty');
  if (!e.object) return fail(`the uploaded object could not be read back${e.objectError ? `: ${e.objectError}` : ''}`);
  if (e.object.size !== e.file.size) return fail(`the uploaded object has ${e.object.size} bytes, the dump file ${e.file.size}`);
  if (e.object.sha256 !== e.file.sha256) return fail('the uploaded object’s SHA-256 differs from the dump file’s');
  return { status: 'succeeded', reason: null, digest: e.file };
}

/** TaskStateLike is the part of Nomad's `TaskState` dumpTaskState reads. */
export interface TaskStateLike {
  /** State is `pending`, `running` or `dead`. */
  State?: string;
  /** Failed says the task failed. */
  Failed?: boolean;
  /** Events are the task's events, oldest first. */
  Events?: { Type?: string; ExitCode?: number }[] | null;
}

/** dumpTaskState reads a task's state and the exit code of its last `Terminated` event. */
export function dumpTaskState(t: TaskStateLike | undefined): DumpTaskState | null {
  if (!t) return null;
  const terminated = (t.Events ?? []).filter((ev) => ev.Type === 'Terminated');
  const last = terminated.at(-1);
  return { state: t.State ?? 'pending', failed: t.Failed === true, exitCode: last && typeof last.ExitCode === 'number' ? last.ExitCode : null };
}

/** DEFAULT_VERIFY_SCHEDULE is when restore verifications run unless the schedule says otherwise: weekly, Sunday 04:00 UTC. */
export const DEFAULT_VERIFY_SCHEDULE = '0 4 * * 0';

/** VerificationVerdict is a restore verification's outcome with the counts it found (recorded next to the backup). */
export type VerificationVerdict = { status: 'succeeded'; reason: null; counts: Record<string, number> } | { status: 'failed'; reason: string; counts: Record<string, number> | null };

/**
 * judgeVerification decides a restore verification from the `check` task's own state and its stdout (the counts
 * printed by countArgv, parsed by `parse`): it succeeds only when the check exited 0, its output parses, and the
 * restored data is not empty unless the source was (`expectEmpty`).
 */
export function judgeVerification(check: DumpTaskState | null, stdout: string, parse: (out: string) => Record<string, number>, expectEmpty = false): VerificationVerdict {
  if (!check) return { status: 'failed', reason: 'the check task did not run', counts: null };
  if (check.state !== 'dead' || check.exitCode === null) return { status: 'failed', reason: 'the check task did not finish', counts: null };
  if (check.exitCode !== 0 || check.failed) return { status: 'failed', reason: `the check task exited with code ${check.exitCode}`, counts: null };
  let counts: Record<string, number>;
  try {
    counts = parse(stdout);
  } catch (e) {
    return { status: 'failed', reason: `the check output is not understood: ${(e as Error).message}`, counts: null };
  }
  if (Object.keys(counts).length === 0 && !expectEmpty) return { status: 'failed', reason: 'the restored database is empty', counts };
  return { status: 'succeeded', reason: null, counts };
}
