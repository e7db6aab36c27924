/**
 * Scope: the shared plumbing of the project domains (projects, environments, services, variables, domains) —
 * loading a resource by ID and checking the caller's access to its team and project before anything else, keyset
 * pagination, and Postgres unique-violation detection. A caller who may not see a resource gets its `not_found`
 * error, never a hint that it exists in another team.
 */
import type { EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import type { AccessChecker } from '../core/access.ts';
import type { Actor, Permission } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError, isDomainError, type ErrorCode } from '../core/errors.ts';
import { decodeCursor, toPage, type Page, type PageParams } from '../core/pagination.ts';

/** ScopeDeps are the adapters every project-domain service needs. */
export interface ScopeDeps {
  /** access decides what the caller may do. */
  access: AccessChecker;
  /** audit records every mutation inside its transaction. */
  audit: AuditRecorder;
  /** clock stamps rows (millisecond precision, so cursors compare exactly). */
  clock: Clock;
}

/** Owned is the team/project pair every project-domain row carries. */
export interface Owned {
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the owning project. */
  projectId: string;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** isUuid tells whether a string is a UUID (anything else cannot be an ID of ours and is answered as not found). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/**
 * requireAccess checks the caller's access to a loaded row's project for `permission`. A caller outside the team or
 * outside the project limit gets `notFound`; a weak role or scope keeps its 403.
 */
export async function requireAccess(
  access: AccessChecker, actor: Actor, row: Owned, permission: Permission, notFound: ErrorCode,
): Promise<void> {
  try {
    await access.requireProject(actor, row.teamId, row.projectId, permission);
  } catch (e) {
    if (isDomainError(e) && (e.code === 'team/not_found' || e.code === 'project/not_found')) throw new DomainError(notFound);
    throw e;
  }
}

/**
 * loadOwned fetches a row by ID with `find`, answering `notFound` when the ID is malformed or the row is absent, then
 * checks access for `permission`. Use it before every read or write of a project-domain resource.
 */
export async function loadOwned<T extends Owned>(
  access: AccessChecker, actor: Actor, id: string, permission: Permission, notFound: ErrorCode,
  find: (id: string) => Promise<T | null>,
): Promise<T> {
  const row = isUuid(id) ? await find(id) : null;
  if (!row) throw new DomainError(notFound);
  await requireAccess(access, actor, row, permission, notFound);
  return row;
}

/**
 * keysetPage applies `(created_at, id) > cursor` ordering to a query builder over `alias` and returns one Page.
 * Rows must carry `createdAt` and `id`.
 */
export async function keysetPage<T extends ObjectLiteral & { id: string; createdAt: Date }>(
  qb: SelectQueryBuilder<T>, alias: string, page: PageParams,
): Promise<Page<T>> {
  const c = decodeCursor(page.cursor);
  if (c) {
    const t = new Date(c.key);
    if (Number.isNaN(t.getTime()) || !isUuid(c.id)) throw badCursor();
    qb.andWhere(`(${alias}.created_at, ${alias}.id) > (:ck, :cid)`, { ck: t, cid: c.id });
  }
  const rows = await qb.orderBy(`${alias}.created_at`, 'ASC').addOrderBy(`${alias}.id`, 'ASC').limit(page.limit + 1).getMany();
  return toPage(rows, page.limit, (r) => ({ key: r.createdAt.toISOString(), id: r.id }));
}

/** badCursor is the error for a cursor that decodes but does not fit the list. */
export function badCursor(): DomainError {
  return new DomainError('request/invalid', 'query.cursor: not a cursor this API issued', {
    errors: [{ path: 'query.cursor', message: 'not a cursor this API issued' }],
  });
}

/** isUniqueViolation tells whether a database error is a unique violation of `constraint` (any when omitted). */
export function isUniqueViolation(e: unknown, constraint?: string): boolean {
  const d = (e as { driverError?: { code?: string; constraint?: string } } | null)?.driverError
    ?? (e as { code?: string; constraint?: string } | null);
  return d?.code === '23505' && (constraint === undefined || d.constraint === constraint);
}

/** now returns the clock's time truncated to milliseconds (what Postgres keeps of a JS Date exactly). */
export function now(clock: Clock): Date {
  return new Date(clock.now().getTime());
}

/** TxFn is work done inside one database transaction. */
export type TxFn<T> = (tx: EntityManager) => Promise<T>;
