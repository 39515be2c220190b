import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

// A webhook receiver on loopback, as an integrator would run one: it keeps
// every request, answers as the test says (or holds the request open), and
// counts connections, so a canary can prove that nothing reached it.

export type ReceivedWebhook = { path: string; headers: Record<string, string>; body: string; id: string };

/**
 * How to answer a request: a status and body, or a status and `bodyBytes`
 * streamed without a Content-Length as fast as the sender reads them; or
 * hold it open until `release`.
 */
export type Answer = { status: number; headers?: Record<string, string>; body?: string; bodyBytes?: number } | 'hold';

export type WebhookReceiver = {
  /** http(s)://host:port, without a trailing slash. */
  url: string;
  received: ReceivedWebhook[];
  /** Decides each answer (default: 204). */
  answer: (request: ReceivedWebhook) => Answer;
  /** Requests held open, oldest first. */
  held: ReceivedWebhook[];
  /** Answers every held request with `status` (a sender that died meanwhile gets nothing). */
  release(status?: number): void;
  /** Connections accepted, with or without a request. */
  connections: number;
  /** Answers whose sender closed the connection before reading them to the end. */
  abandoned: number;
  /** Resolves once `count` requests have arrived in all; fails after `ms` (default 20 s). */
  waitFor(count: number, ms?: number): Promise<void>;
  close(): Promise<void>;
};

export type ReceiverOptions = { host?: string; tls?: { key: string; cert: string } };

export async function startWebhookReceiver(options: ReceiverOptions = {}): Promise<WebhookReceiver> {
  const host = options.host ?? '127.0.0.1';
  const waiters: (() => void)[] = [];
  const holding: { request: ReceivedWebhook; response: http.ServerResponse }[] = [];
  const send = (response: http.ServerResponse, answer: Exclude<Answer, 'hold'>) => {
    response.on('close', () => {
      if (!response.writableFinished) receiver.abandoned += 1;
    });
    response.writeHead(answer.status, answer.headers);
    if (answer.bodyBytes === undefined) return void response.end(answer.body);
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let left = answer.bodyBytes;
    const pump = () => {
      while (left > 0) {
        left -= chunk.length;
        if (!response.write(chunk)) return void response.once('drain', pump);
      }
      response.end();
    };
    pump();
  };
  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.on('error', () => {});
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
      const request = { path: req.url ?? '', headers, body: Buffer.concat(chunks).toString('utf8'), id: headers['webhook-id'] ?? '' };
      receiver.received.push(request);
      for (const wake of waiters.splice(0)) wake();
      const answer = receiver.answer(request);
      if (answer === 'hold') {
        holding.push({ request, response: res });
        receiver.held.push(request);
      } else {
        send(res, answer);
      }
    });
  };
  const server = options.tls ? https.createServer(options.tls, handle) : http.createServer(handle);
  server.on('connection', () => (receiver.connections += 1));
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;

  const receiver: WebhookReceiver = {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    received: [],
    answer: () => ({ status: 204 }),
    held: [],
    release(status = 200) {
      for (const { response } of holding.splice(0)) send(response, { status });
      receiver.held.length = 0;
    },
    connections: 0,
    abandoned: 0,
    waitFor(count, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`the receiver got ${receiver.received.length} of ${count} requests within ${ms} ms`)), ms);
        const look = () => {
          if (receiver.received.length >= count) {
            clearTimeout(timeout);
            resolve();
          } else {
            waiters.push(look);
          }
        };
        look();
      });
    },
    close() {
      receiver.release(503);
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/**
 * Checks a request with the Standard Webhooks reference verifier, as a
 * receiver would, at `now`: the verifier refuses timestamps more than 5
 * minutes from its clock, and in tests the sender's clock is the fake one.
 * Returns the parsed payload; throws when the signature or timestamp fails.
 */
export function verifyWebhook(secret: string, request: ReceivedWebhook, now: Date): unknown {
  const realNow = Date.now;
  Date.now = () => now.getTime();
  try {
    return new Webhook(secret).verify(request.body, request.headers);
  } finally {
    Date.now = realNow;
  }
}
