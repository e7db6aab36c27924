/**
 * Backup routes: team destinations (`/api/teams/:teamId/backup-destinations`, keys write-only), a database's schedule
 * (`PUT /api/databases/:databaseId/backup-schedule`), on-demand backups and the backup records with their verdict.
 */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { slugSchema } from '../core/slugs.ts';
import { DomainError } from '../core/errors.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { BackupCheckRow, BackupRow, DestinationRow } from './backup.entity.ts';
import type { BackupsService } from './service.ts';

/** DestinationSchema is the API form of a destination (its keys are never returned). */
export const DestinationSchema = z.object({
  id: z.uuid(), teamId: z.uuid(), name: z.string(), endpoint: z.string(), region: z.string(), bucket: z.string(),
  createdAt: z.iso.datetime(),
}).meta({ id: 'BackupDestination' });

/** BackupSchema is the API form of a backup record. */
export const BackupSchema = z.object({
  id: z.uuid(), databaseId: z.uuid(), destinationId: z.uuid(),
  trigger: z.enum(['manual', 'schedule', 'safety', 'upgrade']),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']).describe('succeeded only when the dump task exited 0 and the object read back has the dump file’s size and SHA-256'),
  reason: z.string().nullable(), objectKey: z.string().nullable(), sizeBytes: z.number().int().nullable(), sha256: z.string().nullable(),
  createdAt: z.iso.datetime(), finishedAt: z.iso.datetime().nullable(),
  prunedAt: z.iso.datetime().nullable().describe('when its object was deleted for being beyond the schedule’s retention count'),
}).meta({ id: 'Backup' });

const toDestination = (r: DestinationRow): z.infer<typeof DestinationSchema> => ({
  id: r.id, teamId: r.teamId, name: r.name, endpoint: r.endpoint, region: r.region, bucket: r.bucket, createdAt: r.createdAt.toISOString(),
});
const toBackup = (r: BackupRow): z.infer<typeof BackupSchema> => ({
  id: r.id, databaseId: r.databaseId, destinationId: r.destinationId, trigger: r.trigger, status: r.status, reason: r.reason, objectKey: r.objectKey,
  sizeBytes: r.sizeBytes === null ? null : Number(r.sizeBytes), sha256: r.sha256, createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
  prunedAt: r.prunedAt?.toISOString() ?? null,
});

/** BackupCheckSchema is the API form of a restore or a restore verification of a backup. */
export const BackupCheckSchema = z.object({
  id: z.uuid(), backupId: z.uuid(), databaseId: z.uuid().describe('the database restored into (the new one when intoNewDatabase), or whose backup is verified'),
  kind: z.enum(['restore', 'verify']).describe('restore: into the same database after a safety backup, or into a new database; verify: into a scratch instance, counting what it holds'),
  intoNewDatabase: z.boolean().describe('a restore into a new database created for it (the backup’s own database untouched)'),
  trigger: z.enum(['manual', 'schedule']),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  reason: z.string().nullable(),
  safetyBackupId: z.uuid().nullable().describe('the backup of the database taken before a restore into it'),
  counts: z.record(z.string(), z.number().int()).nullable().describe('what a verification found: rows per table, keys, documents per collection'),
  createdAt: z.iso.datetime(), finishedAt: z.iso.datetime().nullable(),
}).meta({ id: 'BackupCheck' });

/** BackupDetailSchema is a backup with its restores and verifications (newest first, at most 50). */
export const BackupDetailSchema = BackupSchema.extend({ checks: z.array(BackupCheckSchema) }).meta({ id: 'BackupDetail' });

const toCheck = (r: BackupCheckRow): z.infer<typeof BackupCheckSchema> => ({
  id: r.id, backupId: r.backupId, databaseId: r.databaseId, kind: r.kind, intoNewDatabase: r.intoNew ?? false, trigger: r.trigger, status: r.status, reason: r.reason,
  safetyBackupId: r.safetyBackupId, counts: r.counts, createdAt: r.createdAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null,
});

/** CreateDestinationBody is the body of POST /api/teams/:teamId/backup-destinations. */
export const CreateDestinationBody = z.object({
  name: z.string().min(1).max(64),
  endpoint: z.string().max(512).describe('http(s) URL of the S3 API'),
  region: z.string().max(32).optional(),
  bucket: z.string().max(63),
  accessKeyId: z.string().min(1).max(256),
  secretAccessKey: z.string().min(1).max(256),
}).strict().meta({ id: 'CreateBackupDestination' });

/** ScheduleBody is the body of PUT /api/databases/:databaseId/backup-schedule: destination, five-field cron (UTC) and retention count. */
export const ScheduleBody = z.object({
  destinationId: z.uuid(),
  cron: z.string().min(9).max(100).describe('Five-field cron, UTC'),
  keep: z.number().int().min(1).max(365).describe('How many scheduled backups are kept'),
}).strict().meta({ id: 'BackupSchedule' });

/** CreateBackupBody is the body of POST /api/databases/:databaseId/backups. */
export const CreateBackupBody = z.object({ destinationId: z.uuid() }).strict().meta({ id: 'CreateBackup' });

const TeamParams = z.object({ teamId: z.string().max(64) });
const DbParams = z.object({ databaseId: z.string().max(64) });
const BackupParams = z.object({ backupId: z.string().max(64) });
const EmptyBody = z.object({}).strict().meta({ id: 'EmptyBackupCheckBody' });

/** RestoreBody is the body of POST /api/backups/:backupId/restore: into the backup's own database (default), or into a new one. */
export const RestoreBody = z.object({
  target: z.enum(['same', 'new']).optional().describe('same (default): the backup’s database, after a safety backup; new: a new database of the same engine and version, created, deployed and restored into'),
  name: slugSchema.optional().describe('The new database’s name (target new)'),
  environmentId: z.uuid().optional().describe('The environment of the new database (target new; default the backup’s environment)'),
}).strict().meta({ id: 'RestoreBackup' });

/** backupRoutes declares the backup operations. */
export function backupRoutes(svc: BackupsService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'createBackupDestination', method: 'post', path: '/api/teams/:teamId/backup-destinations', summary: 'Add an S3-compatible backup destination (keys stored in the secret store)',
      tags: ['backups'], auth: 'user', params: TeamParams, body: CreateDestinationBody, status: 201, errors: [409, 422],
      responses: { 201: { description: 'The destination', schema: DestinationSchema } },
      handler: async ({ actor, params, body }) => toDestination(await svc.createDestination(actor!, params.teamId, body)),
    }),
    defineRoute({
      operationId: 'listBackupDestinations', method: 'get', path: '/api/teams/:teamId/backup-destinations', summary: "List a team's backup destinations",
      tags: ['backups'], auth: 'user', params: TeamParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of destinations', schema: pageSchema(DestinationSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.listDestinations(actor!, params.teamId, query);
        return { items: page.items.map(toDestination), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'putBackupSchedule', method: 'put', path: '/api/databases/:databaseId/backup-schedule', summary: "Set a database's backup schedule (cron, retention count)",
      tags: ['backups'], auth: 'user', params: DbParams, body: ScheduleBody, status: 200, errors: [422],
      responses: { 200: { description: 'The schedule', schema: ScheduleBody } },
      handler: async ({ actor, params, body }) => {
        const r = await svc.setSchedule(actor!, params.databaseId, body);
        return { destinationId: r.backupDestinationId ?? body.destinationId, cron: r.backupCron ?? body.cron, keep: r.backupKeep ?? body.keep };
      },
    }),
    defineRoute({
      operationId: 'createBackup', method: 'post', path: '/api/databases/:databaseId/backups', summary: 'Back a database up now',
      tags: ['backups'], auth: 'user', params: DbParams, body: CreateBackupBody, status: 202, errors: [422],
      responses: { 202: { description: 'The queued backup', schema: BackupSchema } },
      handler: async ({ actor, params, body }) => toBackup(await svc.requestBackup(actor!, params.databaseId, body.destinationId)),
    }),
    defineRoute({
      operationId: 'listBackups', method: 'get', path: '/api/databases/:databaseId/backups', summary: "List a database's backups with their verdicts",
      tags: ['backups'], auth: 'user', params: DbParams, query: PageQuery, status: 200,
      responses: { 200: { description: 'A page of backups', schema: pageSchema(BackupSchema) } },
      handler: async ({ actor, params, query }) => {
        const page = await svc.listBackups(actor!, params.databaseId, query);
        return { items: page.items.map(toBackup), nextCursor: page.nextCursor };
      },
    }),
    defineRoute({
      operationId: 'getBackup', method: 'get', path: '/api/backups/:backupId', summary: 'Get a backup with its restores and verifications (the counts they found)',
      tags: ['backups'], auth: 'user', params: BackupParams, status: 200,
      responses: { 200: { description: 'The backup', schema: BackupDetailSchema } },
      handler: async ({ actor, params }) => {
        const r = await svc.getBackup(actor!, params.backupId);
        return { ...toBackup(r.backup), checks: r.checks.map(toCheck) };
      },
    }),
    defineRoute({
      operationId: 'restoreBackup', method: 'post', path: '/api/backups/:backupId/restore',
      summary: 'Restore a succeeded backup into its database (a safety backup is taken first) or, with target new, into a new database (deploy permission on its environment)',
      tags: ['backups'], auth: 'user', params: BackupParams, body: RestoreBody, status: 202, errors: [409, 422],
      responses: { 202: { description: 'The queued restore (databaseId: the database restored into)', schema: BackupCheckSchema } },
      handler: async ({ actor, params, body }) => {
        if (body.target !== 'new') {
          if (body.name !== undefined || body.environmentId !== undefined) throw new DomainError('backup/invalid', 'name and environmentId are for a restore into a new database', { errors: [{ path: 'body.target', message: 'must be new with name or environmentId' }] });
          return toCheck(await svc.requestCheck(actor!, params.backupId, 'restore'));
        }
        if (body.name === undefined) throw new DomainError('backup/invalid', 'a restore into a new database needs its name', { errors: [{ path: 'body.name', message: 'is required with target new' }] });
        return toCheck((await svc.requestRestoreIntoNew(actor!, params.backupId, { name: body.name, environmentId: body.environmentId })).check);
      },
    }),
    defineRoute({
      operationId: 'verifyBackup', method: 'post', path: '/api/backups/:backupId/verify', summary: 'Restore a succeeded backup into a scratch instance and record what it holds',
      tags: ['backups'], auth: 'user', params: BackupParams, body: EmptyBody, status: 202, errors: [409],
      responses: { 202: { description: 'The queued verification', schema: BackupCheckSchema } },
      handler: async ({ actor, params }) => toCheck(await svc.requestCheck(actor!, params.backupId, 'verify')),
    }),
  ];
}
