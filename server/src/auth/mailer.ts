/**
 * Mailer: the one adapter for outgoing mail (password reset and invitation links). Drover has no mail transport
 * configured, so the default writes each message to `<data dir>/outbox/` (mode 0600, directory 0700) for the
 * operator and logs that it did — without the message text, which carries a one-use token.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** MailMessage is one outgoing message; `text` may hold a one-use link and must never be logged. */
export interface MailMessage {
  /** to is the recipient's email. */
  to: string;
  /** subject is the subject line. */
  subject: string;
  /** text is the plain-text body. */
  text: string;
  /** kind names the message type (`password_reset`, `invitation`) for logs and tests. */
  kind: 'password_reset' | 'invitation';
  /** link is the one-use link the text contains. */
  link: string;
}

/** Mailer delivers messages. */
export interface Mailer {
  /** send delivers one message; it throws when the message could not be stored or sent. */
  send(message: MailMessage): Promise<void>;
}

/** MailLogger is the part of a pino logger the FileMailer uses. */
export interface MailLogger {
  /** info logs a notice. */
  info(obj: Record<string, unknown>, msg: string): void;
}

/** FileMailer writes each message as a file in `<dir>` (created 0700, files 0600) and logs the file name only. */
export class FileMailer implements Mailer {
  private readonly dir: string;
  private readonly log: MailLogger;
  constructor(dir: string, log: MailLogger) {
    this.dir = dir;
    this.log = log;
  }
  /** send writes the message file. */
  async send(m: MailMessage): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${m.kind}-${randomUUID()}.eml`);
    const body = `To: ${m.to}\nSubject: ${m.subject}\nContent-Type: text/plain; charset=utf-8\n\n${m.text}\n`;
    await writeFile(file, body, { mode: 0o600, flag: 'wx' });
    this.log.info({ kind: m.kind, file }, 'mail written to the outbox (no mail transport is configured)');
  }
}

/** MemoryMailer keeps messages in memory: for tests, which read links from `sent`. */
export class MemoryMailer implements Mailer {
  /** sent lists every message, oldest first. */
  readonly sent: MailMessage[] = [];
  /** send records the message. */
  async send(m: MailMessage): Promise<void> {
    this.sent.push(m);
  }
  /** lastTo returns the newest message to an address, if any. */
  lastTo(email: string): MailMessage | undefined {
    return this.sent.filter((m) => m.to === email).at(-1);
  }
}
