import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../context.js';
import type { Tx } from '../db/tenant.js';
import type { Keyring } from '../keys/service.js';
import { wakeQueue } from './queue.js';

// Work that must happen after a transaction commits and survive a crash (an
// e-mail, an audit of a failed login) is written to the outbox in that
// transaction. Any instance may claim a due job: FOR UPDATE SKIP LOCKED hands
// each to one worker, and a claim lapses if its worker dies (see Queues).

export type JobHandler = (payload: unknown) => Promise<void>;

export const OUTBOX_CHANNEL = 'parley_outbox';
const BATCH = 10;
const CLAIM_MS = 5 * 60_000;
const MAX_ATTEMPTS = 8;

/** Queues a job in the caller's transaction; the payload is sealed (it may hold a reset link). */
export async function enqueueJob(tx: Tx | pg.Pool, keyring: Keyring, kind: string, payload: unknown, now: Date): Promise<void> {
  const id = randomUUID();
  const sealed = keyring.sealSystem(JSON.stringify(payload), { table: 'outbox', column: 'payload_enc', rowId: id });
  await tx.query('INSERT INTO outbox (id, kind, payload_enc, created_at, run_at) VALUES ($1, $2, $3, $4, $4)', [id, kind, sealed, now]);
  await wakeQueue(tx, OUTBOX_CHANNEL);
}

/** Retry after 1, 2, 4 … 64 minutes. */
export function retryDelayMs(attempts: number): number {
  return 60_000 * 2 ** Math.min(attempts - 1, 6);
}

/** The outbox queue's work: claims due jobs and runs each with its kind's handler (see Queues). */
export class Outbox {
  constructor(
    private readonly pool: pg.Pool,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly handlers: Record<string, JobHandler>,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** One round: claims a batch of due jobs and runs them; true when there were any. */
  readonly round = async (): Promise<boolean> => {
    const jobs = await this.claim();
    for (const job of jobs) await this.run(job);
    return jobs.length > 0;
  };

  private async claim() {
    const now = this.clock.now();
    const { rows } = await this.pool.query<{ id: string; kind: string; payload_enc: Buffer; attempts: number }>(
      `UPDATE outbox SET locked_until = $2, attempts = attempts + 1
        WHERE id IN (SELECT id FROM outbox
                      WHERE done_at IS NULL AND failed_at IS NULL AND run_at <= $1 AND (locked_until IS NULL OR locked_until < $1)
                      ORDER BY run_at LIMIT ${BATCH} FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, payload_enc, attempts`,
      [now, new Date(now.getTime() + CLAIM_MS)],
    );
    return rows;
  }

  private async run(job: { id: string; kind: string; payload_enc: Buffer; attempts: number }): Promise<void> {
    const handler = this.handlers[job.kind];
    try {
      if (!handler) throw new Error(`no handler for jobs of kind "${job.kind}"`);
      const payload: unknown = JSON.parse(this.keyring.openSystem(job.payload_enc, { table: 'outbox', column: 'payload_enc', rowId: job.id }));
      await handler(payload);
      await this.pool.query('UPDATE outbox SET done_at = $2, locked_until = NULL, last_error = NULL WHERE id = $1', [job.id, this.clock.now()]);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const now = this.clock.now();
      if (job.attempts >= MAX_ATTEMPTS) {
        this.log.error({ job: job.id, kind: job.kind, attempts: job.attempts, error: message }, 'outbox job failed for good');
        await this.pool.query('UPDATE outbox SET failed_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1', [job.id, now, message.slice(0, 1000)]);
      } else {
        this.log.warn({ job: job.id, kind: job.kind, attempts: job.attempts, error: message }, 'outbox job failed; will retry');
        await this.pool.query('UPDATE outbox SET run_at = $2, locked_until = NULL, last_error = $3 WHERE id = $1', [
          job.id,
          new Date(now.getTime() + retryDelayMs(job.attempts)),
          message.slice(0, 1000),
        ]);
      }
    }
  }
}
