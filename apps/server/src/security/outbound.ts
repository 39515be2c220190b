import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import tls from 'node:tls';

// One outbound HTTP exchange on Parley's terms, for captcha checks and
// webhooks: it ends when `signal` aborts (the caller's deadline), reads at
// most `maxBytes` of the answer, and follows no redirect (node:http never
// does: a 3xx is an answer like any other). Certificates are always checked.

/**
 * The public roots plus the operator's extra PEM certificates (a
 * TLS-inspecting proxy's CA, a test peer's), added to them rather than put in
 * their place; undefined without a file (Node's defaults). Read at start-up,
 * so a missing file stops the server instead of failing every request.
 */
export function certificateAuthorities(caFile: string | undefined): string[] | undefined {
  return caFile ? [...tls.rootCertificates, readFileSync(caFile, 'utf8')] : undefined;
}

export type OutboundRequest = {
  method: string;
  headers: Record<string, string | number>;
  body: string;
  agent: http.Agent;
  signal: AbortSignal;
  /** Bytes of the answer's body read at most; past them the connection is closed and `truncated` set. */
  maxBytes: number;
  /** Called with the socket the request is given (new or reused). */
  onSocket?: (socket: net.Socket) => void;
};

export type OutboundAnswer = {
  status: number;
  /** The status line and the headers, as received. */
  head: string;
  body: Buffer;
  /** The body was longer than maxBytes (or announced to be): only its start was read. */
  truncated: boolean;
};

/** The peer closed the connection before the whole answer came. */
export class AnswerCutOff extends Error {}

/** Sends one request and reads its answer; rejects on network and TLS errors, or with `signal.reason` once it aborts. */
export function exchange(url: URL, request: OutboundRequest): Promise<OutboundAnswer> {
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const outgoing = send(
      url,
      { method: request.method, agent: request.agent, signal: request.signal, headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) } },
      (response) => {
        const lines = [`HTTP/${response.httpVersion} ${response.statusCode ?? 0} ${response.statusMessage ?? ''}`.trimEnd()];
        for (let i = 0; i < response.rawHeaders.length; i += 2) lines.push(`${response.rawHeaders[i]}: ${response.rawHeaders[i + 1]}`);
        const answer = (body: Buffer, truncated: boolean): OutboundAnswer => ({ status: response.statusCode ?? 0, head: lines.join('\n'), body, truncated });
        const chunks: Buffer[] = [];
        let size = 0;
        const cut = () => {
          resolve(answer(Buffer.concat(chunks), true));
          outgoing.destroy();
        };
        if (Number(response.headers['content-length']) > request.maxBytes) return cut();
        response.on('data', (chunk: Buffer) => {
          const room = request.maxBytes - size;
          size += chunk.length;
          chunks.push(chunk.subarray(0, room));
          if (size > request.maxBytes) cut();
        });
        response.on('end', () => resolve(answer(Buffer.concat(chunks), false)));
        response.on('error', reject);
        // Cut off mid-answer (deadline, peer hung up): 'end' never comes.
        response.on('close', () => {
          if (!response.complete) reject(request.signal.aborted ? request.signal.reason : new AnswerCutOff('closed the connection mid-answer'));
        });
      },
    );
    if (request.onSocket) outgoing.on('socket', request.onSocket);
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
