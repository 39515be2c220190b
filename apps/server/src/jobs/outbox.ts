import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../context.js';
import type { Tx } from '../db/tenant.js';
import type { Keyring } from '../keys/service.js';

// Work that must happen after a transaction commits and survive a crash (an
// e-mail, later a webhook) is written to the outbox in that transaction.
// Any instance may claim a due job: FOR UPDATE SKIP LOCKED hands each to one
// worker, and a claim lapses if its worker dies. NOTIFY (delivered at commit)
// wakes the workers at once; a slow poll picks up retries.

export type JobHandler = (payload: unknown) => Promise<void>;

const CHANNEL = 'parley_outbox';
const BATCH = 10;
const CLAIM_MS = 5 * 60_000;
const POLL_MS = 15_000;
const MAX_ATTEMPTS = 8;

/** Queues a job in the caller's transaction; the payload is sealed (it may hold a reset link). */
export async function enqueueJob(tx: Tx | pg.Pool, keyring: Keyring, kind: string, payload: unknown, now: Date): Promise<void> {
  const id = randomUUID();
  const sealed = keyring.sealSystem(JSON.stringify(payload), { table: 'outbox', column: 'payload_enc', rowId: id });
  await tx.query('INSERT INTO outbox (id, kind, payload_enc, created_at, run_at) VALUES ($1, $2, $3, $4, $4)', [id, kind, sealed, now]);
  await tx.query('SELECT pg_notify($1, $2)', [CHANNEL, kind]);
}

/** Retry after 1, 2, 4 … 64 minutes. */
export function retryDelayMs(attempts: number): number {
  return 60_000 * 2 ** Math.min(attempts - 1, 6);
}

export class OutboxWorker {
  private listener: pg.PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly keyring: Keyring,
    private readonly clock: Clock,
    private readonly handlers: Record<string, JobHandler>,
    private readonly log: FastifyBaseLogger,
  ) {}

  async start(): Promise<void> {
    this.listener = await this.pool.connect();
    this.listener.on('notification', () => this.kick());
    await this.listener.query(`LISTEN ${CHANNEL}`);
    this.timer = setInterval(() => this.kick(), POLL_MS);
    this.timer.unref();
    this.kick();
  }

  /** Works the due jobs now (coalesces calls made while a round runs). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.log.error({ err: error }, 'outbox round failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves when no round is running (tests; shutdown). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.idle();
    if (this.listener) {
      await this.listener.query(`UNLISTEN ${CHANNEL}`).catch(() => {});
      this.listener.release();
    }
  }

  private async drain(): Promise<void> {
    for (;;) {
      const jobs = await this.claim();
      if (jobs.length === 0) return;
      for (const job of jobs) await this.run(job);
    }
  }

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
