import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { startTestServer, type TestServer } from './server.js';

/** `html` is false for a plain-text mail (no HTML part). */
export type ReceivedMail = { from: string; to: string[]; subject: string; text: string; html: string | false };

export type TestSmtp = {
  /** For startTestServer's env: `{ SMTP_URL: smtp.url }`. */
  url: string;
  received: ReceivedMail[];
  /** The next message to `to` (already received or still to come); fails after 10 s. */
  nextMail(to: string, subject?: RegExp): Promise<ReceivedMail>;
  close(): Promise<void>;
};

/** A real SMTP server on a random loopback port that keeps what it receives. */
export async function startTestSmtp(): Promise<TestSmtp> {
  const received: ReceivedMail[] = [];
  const taken = new Set<ReceivedMail>();
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    async onData(stream, session, callback) {
      try {
        const parsed = await simpleParser(stream);
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          subject: parsed.subject ?? '',
          text: parsed.text ?? '',
          html: parsed.html ?? false,
        });
        for (const wake of waiters.splice(0)) wake();
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;

  const take = (to: string, subject?: RegExp) => {
    const mail = received.find((m) => !taken.has(m) && m.to.includes(to) && (!subject || subject.test(m.subject)));
    if (mail) taken.add(mail);
    return mail;
  };

  return {
    url: `smtp://127.0.0.1:${port}`,
    received,
    nextMail(to, subject) {
      return new Promise((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`no mail to ${to}${subject ? ` matching ${subject}` : ''} within 10 s`)), 10_000);
        const look = () => {
          const mail = take(to, subject);
          if (mail) {
            clearTimeout(timeout);
            resolve(mail);
          } else {
            waiters.push(look);
          }
        };
        look();
      });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a mail's text that starts with `prefix`. */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const link = mail.text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!link) throw new Error(`no link starting with ${prefix} in:\n${mail.text}`);
  return link;
}

/** A test server whose mail goes to its own test SMTP server; closing the server closes both. */
export async function startMailingTestServer(env: Record<string, string> = {}): Promise<{ server: TestServer; smtp: TestSmtp }> {
  const smtp = await startTestSmtp();
  const server = await startTestServer({ SMTP_URL: smtp.url, ...env });
  const closeServer = server.close;
  server.close = async () => {
    await closeServer();
    await smtp.close();
  };
  return { server, smtp };
}
