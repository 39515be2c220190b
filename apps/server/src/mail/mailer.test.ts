import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { startTestSmtp, type TestSmtp } from '../../../../test/smtp.js';
import { queueMail } from './mailer.js';

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  smtp = await startTestSmtp();
  server = await startTestServer({ SMTP_URL: smtp.url, SMTP_FROM: 'Parley <parley@example.test>' });
});
afterAll(async () => {
  await server.close();
  await smtp.close();
});

const outboxRows = () => server.db.superuser.query<{ attempts: number; done_at: Date | null; last_error: string | null; payload_enc: Buffer }>('SELECT attempts, done_at, last_error, payload_enc FROM outbox');

describe('mail through the outbox', () => {
  it('sends a queued e-mail after commit, as plain text from SMTP_FROM', async () => {
    await queueMail(server.ctx.db.app, server.ctx.keyring, { to: 'someone@example.test', subject: 'Hello', text: 'Link: https://x.test/reset#token=secret-token' }, server.clock.now());
    const mail = await smtp.nextMail('someone@example.test');
    expect(mail).toMatchObject({ from: 'parley@example.test', subject: 'Hello' });
    expect(mail.text.trim()).toBe('Link: https://x.test/reset#token=secret-token');
    await server.app.queues.settle();
    const { rows } = await outboxRows();
    expect(rows[0]).toMatchObject({ attempts: 1, last_error: null });
    expect(rows[0]!.done_at).not.toBeNull();
    // The payload carries secrets (reset links): only sealed bytes are stored.
    expect(rows[0]!.payload_enc.includes(Buffer.from('secret-token'))).toBe(false);
  });

  it('keeps a mail the SMTP server refused, to try again a minute later', async () => {
    await server.db.superuser.query('DELETE FROM outbox');
    const down = await startTestServer({ SMTP_URL: 'smtp://127.0.0.1:1' });
    try {
      await queueMail(down.ctx.db.app, down.ctx.keyring, { to: 'later@example.test', subject: 'Retry', text: 'x' }, down.clock.now());
      await down.app.queues.settle();
      const { rows } = await down.db.superuser.query<{ attempts: number; done_at: Date | null; failed_at: Date | null; last_error: string | null; run_at: Date }>(
        'SELECT attempts, done_at, failed_at, last_error, run_at FROM outbox',
      );
      expect(rows[0]).toMatchObject({ attempts: 1, done_at: null, failed_at: null });
      expect(rows[0]!.last_error).toMatch(/ECONNREFUSED/);
      expect(rows[0]!.run_at.getTime()).toBe(down.clock.now().getTime() + 60_000);
    } finally {
      await down.close();
    }
  });
});
