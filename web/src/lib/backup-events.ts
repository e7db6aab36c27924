/**
 * A database's backup, restore and verification verdicts as they arrive on the team event stream: which events they
 * are, and the notice the database page shows for one of ITS events (a failure with its reason; a success briefly).
 * Pure, so node:test checks it without a browser.
 */

/** BACKUP_EVENTS are the event names of the verdicts (`succeeded` and `failed` of backups, restores, verifications). */
export const BACKUP_EVENTS = ['backup', 'restore', 'verification'].flatMap((k) => [`${k}.succeeded`, `${k}.failed`]);

/** BackupNotice is a notice to show: `bad` for a failure (with the server's reason), `ok` for a success. */
export interface BackupNotice {
  /** key identifies the verdict (the same event twice gives one notice). */
  key: string;
  /** tone is `bad` for failures, `ok` for successes. */
  tone: 'bad' | 'ok';
  /** text is what the page says. */
  text: string;
}

const LABEL: Record<string, string> = { backup: 'Backup', restore: 'Restore', verification: 'Restore verification' };

/**
 * backupNotice is the notice for event `type` with `data` (the stream's JSON) when it is a verdict about database
 * `databaseId`; null for other events, other databases and malformed data.
 */
export function backupNotice(type: string, data: unknown, databaseId: string): BackupNotice | null {
  if (!BACKUP_EVENTS.includes(type) || typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if ((d.databaseId ?? d.serviceId) !== databaseId) return null;
  const [kind = '', verdict] = type.split('.');
  const id = typeof d.checkId === 'string' ? d.checkId : typeof d.backupId === 'string' ? d.backupId : '';
  const at = typeof d.at === 'string' ? d.at : '';
  const key = `${type}:${id}:${at}`;
  if (verdict === 'failed') {
    const reason = typeof d.reason === 'string' && d.reason !== '' ? d.reason : 'no reason given';
    return { key, tone: 'bad', text: `${LABEL[kind]} failed: ${reason}` };
  }
  return { key, tone: 'ok', text: `${LABEL[kind]} succeeded` };
}
