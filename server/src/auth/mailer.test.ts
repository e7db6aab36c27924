import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileMailer } from './mailer.ts';

describe('FileMailer', () => {
  it('writes each message to the outbox with mode 0600 (directory 0700) and logs the file, never the link', async () => {
    const root = mkdtempSync(join(tmpdir(), 'drover-mail-'));
    const logged: { obj: Record<string, unknown>; msg: string }[] = [];
    const sut = new FileMailer(join(root, 'outbox'), { info: (obj, msg) => logged.push({ obj, msg }) });
    const link = 'https://drover.example.test/reset-password#token=SECRET-TOKEN-VALUE';
    try {
      await sut.send({ kind: 'password_reset', to: 'a@example.test', subject: 'Reset', text: `open ${link}`, link });
      await sut.send({ kind: 'invitation', to: 'b@example.test', subject: 'Join', text: 'join', link: 'https://x/y' });
      const files = readdirSync(join(root, 'outbox'));
      assert.equal(files.length, 2);
      assert.equal(statSync(join(root, 'outbox')).mode & 0o777, 0o700);
      const reset = files.find((f) => f.includes('password_reset')) ?? '';
      assert.equal(statSync(join(root, 'outbox', reset)).mode & 0o777, 0o600);
      assert.match(readFileSync(join(root, 'outbox', reset), 'utf8'), /^To: a@example.test\nSubject: Reset\n[\s\S]*SECRET-TOKEN-VALUE/);
      assert.equal(logged.length, 2);
      assert.equal(JSON.stringify(logged).includes('SECRET-TOKEN-VALUE'), false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
