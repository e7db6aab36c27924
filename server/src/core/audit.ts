/**
 * Audit: every mutation and every secret reveal is recorded (actor, team, action, target, time, source IP). Services
 * record inside the same transaction as the change, so a change and its audit entry land together or not at all.
 */
import type { EntityManager } from 'typeorm';
import type { Actor } from './actor.ts';

/** AuditInput is one audit entry to record. `action` is `<domain>.<verb>` (`project.create`, `variable.reveal`). */
export interface AuditInput {
  /** actor is who acted; null for the system (first-run setup, the reconciler). */
  actor: Actor | null;
  /** teamId is the team the target belongs to; null for instance-wide actions. */
  teamId: string | null;
  /** action names what happened, `<domain>.<verb>`. */
  action: string;
  /** targetType names the kind of target (`project`, `variable`). */
  targetType: string;
  /** targetId is the target's ID. */
  targetId: string | null;
  /** details holds non-secret facts (names, old and new non-secret values); never secret values. */
  details?: Record<string, unknown>;
}

/** AuditRecorder writes audit entries, inside the caller's transaction when an EntityManager is given. */
export interface AuditRecorder {
  /** record stores one entry; with `manager` it joins that transaction. */
  record(entry: AuditInput, manager?: EntityManager): Promise<void>;
}
