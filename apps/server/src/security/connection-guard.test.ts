import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownerAccount, project, setProtection } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

// An address over its per-IP limit keeps at most PARLEY_FLOOD_CONNECTIONS
// connections; everyone else keeps as many as they like.

let server: TestServer;
let p: Project;

beforeAll(async () => {
  server = await startTestServer({ PARLEY_FLOOD_CONNECTIONS: '2' });
  const owner = await ownerAccount(server);
  p = await project(server, owner.orgId);
  await setProtection(server, owner, p, { captcha: { provider: 'none' }, minSeconds: 0, limits: { perIp: { points: 1, seconds: 300 } } });
});
afterAll(() => server.close());

type Connection = { socket: net.Socket; closed: Promise<void>; send(): Promise<string> };

/** A raw keep-alive connection from `localAddress`; `send` posts one feedback and resolves with the answer's head. */
async function connect(localAddress: string): Promise<Connection> {
  const { port } = new URL(server.url);
  const socket = net.connect({ host: '127.0.0.1', port: Number(port), localAddress });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => {});
  return {
    socket,
    closed,
    send() {
      const body = JSON.stringify({ message: 'flood' });
      socket.write(
        `POST /api/widget/v1/projects/${p.key}/feedback HTTP/1.1\r\nHost: localhost\r\nOrigin: https://example.com\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      );
      return new Promise((resolve) => socket.once('data', (chunk: Buffer) => resolve(chunk.toString('latin1').split('\r\n\r\n')[0]!)));
    },
  };
}

describe('connections of a flooding address', () => {
  it('drops its connections beyond the cap at its first refusal and new ones after, and leaves other addresses alone', async () => {
    const flood = await Promise.all(Array.from({ length: 4 }, () => connect('127.0.0.9')));
    expect(await flood[0]!.send()).toMatch(/^HTTP\/1.1 201/);
    expect(await flood[1]!.send()).toMatch(/^HTTP\/1.1 429/);
    // The refused connection and one other stay (cap 2); the other two are dropped.
    await Promise.all([flood[2]!.closed, flood[3]!.closed]);
    expect(await flood[1]!.send()).toMatch(/^HTTP\/1.1 429/);
    expect(await flood[0]!.send()).toMatch(/^HTTP\/1.1 429/);

    // At the cap, a new connection is dropped without an answer.
    const extra = await connect('127.0.0.9');
    await extra.closed;
    expect(extra.socket.bytesRead).toBe(0);

    // Another address within its limit is not capped.
    const others = await Promise.all(Array.from({ length: 4 }, () => connect('127.0.0.10')));
    expect(await others[3]!.send()).toMatch(/^HTTP\/1.1 201/);
    for (const connection of [...flood, ...others]) connection.socket.destroy();
  });
});
