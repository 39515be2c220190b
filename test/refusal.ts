import { expect } from 'vitest';
import { snapshot } from './route-sweep.js';
import type { Reply, TestServer } from './server.js';

/**
 * Makes one request that must be refused: checks its status and problem
 * `code`, and that none of the watched tables changed (`except` leaves some
 * out, as snapshot does). The request starts only after the first snapshot.
 * Returns the answer for further checks (detail, headers).
 */
export async function expectRefusal(server: TestServer, attempt: () => Promise<Reply>, status: number, code: string, except: string[] = []): Promise<Reply> {
  const before = await snapshot(server, except);
  const reply = await attempt();
  expect([reply.status, reply.body?.code], reply.text.slice(0, 300)).toEqual([status, code]);
  expect(await snapshot(server, except)).toEqual(before);
  return reply;
}
