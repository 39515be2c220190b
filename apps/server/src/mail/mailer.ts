import type { FastifyBaseLogger } from 'fastify';
import nodemailer from 'nodemailer';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { Tx } from '../db/tenant.js';
import { enqueueJob, type JobHandler } from '../jobs/outbox.js';
import type { Keyring } from '../keys/service.js';

/** Plain text only: nothing in a message is ever interpreted as HTML. */
export type Mail = { to: string; subject: string; text: string };

export const MAIL_JOB = 'mail';

/** Queues an e-mail in the caller's transaction; it is sent after commit, retried if the server is down. */
export function queueMail(tx: Tx | pg.Pool, keyring: Keyring, mail: Mail, now: Date): Promise<void> {
  return enqueueJob(tx, keyring, MAIL_JOB, mail, now);
}

/** Sends queued mail through SMTP_URL; without it, says in the log that nothing was sent. */
export function mailJobHandler(config: Config, log: FastifyBaseLogger): JobHandler {
  const transport = config.smtpUrl
    ? nodemailer.createTransport({
        url: config.smtpUrl.href,
        // Never follow a server's offer to skip certificate checks.
        tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' },
        connectionTimeout: 10_000,
        greetingTimeout: 10_000,
        socketTimeout: 30_000,
      })
    : undefined;
  return async (payload) => {
    const mail = payload as Mail;
    if (!transport) {
      // The recipient's domain only: the log is not a place for addresses or links.
      log.warn({ subject: mail.subject, toDomain: mail.to.split('@').pop() }, 'SMTP_URL is not set: e-mail not sent');
      return;
    }
    await transport.sendMail({ from: config.smtpFrom, to: mail.to, subject: mail.subject, text: mail.text });
  };
}
