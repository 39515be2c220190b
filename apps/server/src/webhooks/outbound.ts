import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Config } from '../config.js';
import { AnswerCutOff, certificateAuthorities, exchange } from '../security/outbound.js';
import { AddressPolicy } from './addresses.js';

// Every webhook attempt goes through here (SSRF defence, SECURITY.md case 21).
// A URL is checked when it is saved and again before each attempt; a name is
// resolved when the connection is made, and refused if *any* address it
// resolves to is internal, so a DNS answer that changed since (rebinding) or
// mixes a public and a private address gains nothing; the address actually
// connected to is checked once more. No redirect is followed, the whole
// attempt has a deadline, and at most 64 KB of the answer is read.

/** Answers are read up to this much, then the connection is closed. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** The delivery log keeps this much of an answer's status line and headers. */
const MAX_HEAD_CHARS = 4096;
const MAX_ERROR_CHARS = 1000;
const USER_AGENT = 'Parley-Webhooks/1';

export type AttemptOutcome = {
  /** A 2xx answer. */
  ok: boolean;
  durationMs: number;
  statusCode: number | null;
  /** The answer's status line and headers, at most 4 KB. */
  responseHead: string | null;
  /** Why the attempt failed short of a non-2xx answer (refused address, timeout, TLS, redirect). */
  error: string | null;
};

/** The target is an address webhooks may not reach. */
class AddressRefused extends Error {}

export class WebhookClient {
  readonly #policy: AddressPolicy;
  readonly #agents: Record<'http:' | 'https:', http.Agent>;

  constructor(private readonly config: Config['webhooks']) {
    this.#policy = new AddressPolicy(config.allowedRanges);
    const lookup = this.#lookup.bind(this) as unknown as net.LookupFunction;
    // Idle connections are closed after 4 s, before most servers drop them.
    this.#agents = {
      'http:': new http.Agent({ keepAlive: true, timeout: 4000, lookup } as http.AgentOptions),
      'https:': new https.Agent({ keepAlive: true, timeout: 4000, lookup, ca: certificateAuthorities(config.caFile), minVersion: 'TLSv1.2' }),
    };
  }

  /**
   * Why `target` may not be a webhook URL, or null when it may: an absolute
   * https:// URL (http:// when the operator allows it) without credentials or
   * fragment, whose host, if it is an IP address, is not internal. Names are
   * judged when connecting, by what they resolve to then.
   */
  targetProblem(target: string): string | null {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      return 'The URL is not valid: give an absolute URL such as https://example.com/hooks/parley.';
    }
    if (url.protocol === 'http:' && !this.config.allowHttp) {
      return 'The URL must start with https://: this server sends webhooks over HTTPS only (its operator can allow http:// with PARLEY_WEBHOOK_ALLOW_HTTP).';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return `The URL must start with https:// (not ${url.protocol}//).`;
    if (url.username || url.password) return 'The URL must not contain a user name or password: receivers tell Parley by the webhook signature.';
    if (url.hash) return 'The URL must not contain a #fragment: it is never sent.';
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (net.isIP(host) !== 0) {
      const why = this.#policy.refusal(host);
      if (why) return `The URL points to ${host}, ${why}. ${INTERNAL_HINT}`;
    }
    return null;
  }

  /** POSTs one signed message; never throws: every way it can go wrong is an outcome for the delivery log. */
  async post(target: string, body: string, headers: Record<string, string>): Promise<AttemptOutcome> {
    const started = performance.now();
    const outcome = (fields: Partial<AttemptOutcome>): AttemptOutcome => ({
      ok: false, statusCode: null, responseHead: null, error: null, ...fields, durationMs: Math.round(performance.now() - started),
    });
    const problem = this.targetProblem(target);
    if (problem) return outcome({ error: `Not sent: ${problem}` });
    const url = new URL(target);
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    try {
      const answer = await exchange(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': USER_AGENT, ...headers },
        body,
        agent: this.#agents[url.protocol as 'http:' | 'https:'],
        signal,
        maxBytes: MAX_ANSWER_BYTES,
        onSocket: (socket) => this.#checkPeer(socket),
      });
      const fields = { statusCode: answer.status, responseHead: answer.head.slice(0, MAX_HEAD_CHARS) };
      if (answer.status >= 200 && answer.status < 300) return outcome({ ...fields, ok: true });
      if (answer.status >= 300 && answer.status < 400) {
        const location = /^location: (.*)$/im.exec(answer.head)?.[1] ?? 'nowhere';
        return outcome({ ...fields, error: `Redirect not followed (to ${location.slice(0, 300)}): give the final URL.` });
      }
      return outcome(fields);
    } catch (error) {
      if (signal.aborted) return outcome({ error: `No complete answer within ${this.config.timeoutMs} ms.` });
      if (error instanceof AddressRefused || error instanceof AnswerCutOff) return outcome({ error: error.message });
      const { code, message } = error as NodeJS.ErrnoException;
      return outcome({ error: `${code ? `${code}: ` : ''}${message}`.slice(0, MAX_ERROR_CHARS) });
    }
  }

  /** dns.lookup, refusing a name if any of its addresses is internal. */
  #lookup(hostname: string, options: dns.LookupOptions, callback: (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void): void {
    dns.lookup(hostname, { family: options.family ?? 0, hints: options.hints, all: true }, (error, addresses) => {
      if (error) return callback(error, '');
      for (const { address } of addresses) {
        const why = this.#policy.refusal(address);
        if (why) return callback(new AddressRefused(`Not sent: ${hostname} resolves to ${address}, ${why}. ${INTERNAL_HINT}`), '');
      }
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }

  /** The address a new connection reached, checked again (IP literals skip the lookup). */
  #checkPeer(socket: net.Socket): void {
    if (!socket.connecting) return;
    socket.once('connect', () => {
      const address = socket.remoteAddress ?? '';
      const why = this.#policy.refusal(address);
      if (why) socket.destroy(new AddressRefused(`Not sent: the connection reached ${address}, ${why}. ${INTERNAL_HINT}`));
    });
  }

  close(): void {
    for (const agent of Object.values(this.#agents)) agent.destroy();
  }
}

const INTERNAL_HINT = 'Webhooks may not reach loopback, private, link-local or other internal addresses unless the server\'s operator allows them (PARLEY_WEBHOOK_ALLOWED_RANGES).';
