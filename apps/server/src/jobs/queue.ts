import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Tx } from '../db/tenant.js';

// Background work shared by every instance through PostgreSQL: each queue is
// a table whose due rows any instance may claim (FOR UPDATE SKIP LOCKED). A
// NOTIFY on the queue's channel (delivered at commit) wakes every instance's
// worker at once; a slow poll picks up retries that came due. One LISTEN
// connection per instance serves all queues.

/** One round of a queue's work: claims and works a batch; true when it found any (another round may find more). */
export type Round = () => Promise<boolean>;

const POLL_MS = 15_000;

/** Wakes every instance's worker of `channel` once the caller's transaction commits (NOTIFY is held until then). */
export async function wakeQueue(db: Tx | pg.Pool, channel: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [channel, '']);
}

/** Runs rounds of one queue one at a time, until a round finds nothing. */
class Worker {
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Set when a round found work; cleared by Queues.settle. */
  worked = false;

  constructor(
    readonly name: string,
    private readonly round: Round,
    private readonly log: FastifyBaseLogger,
  ) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error) => this.log.error({ err: error, queue: this.name }, 'job round failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (await this.round())) this.worked = true;
  }
}

export class Queues {
  private readonly workers = new Map<string, Worker>();
  private listener: pg.PoolClient | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Adds a queue woken by NOTIFY on `channel` (before start). */
  add(channel: string, round: Round): void {
    this.workers.set(channel, new Worker(channel, round, this.log));
  }

  async start(): Promise<void> {
    this.listener = await this.pool.connect();
    this.listener.on('notification', (message) => this.workers.get(message.channel)?.kick());
    for (const channel of this.workers.keys()) await this.listener.query(`LISTEN ${channel}`);
    this.timer = setInterval(() => this.kickAll(), POLL_MS);
    this.timer.unref();
    this.kickAll();
  }

  kick(channel: string): void {
    this.workers.get(channel)?.kick();
  }

  kickAll(): void {
    for (const worker of this.workers.values()) worker.kick();
  }

  /**
   * Works every queue until none finds anything due (one queue's work may
   * queue more in another: an event becomes deliveries and mail). For tests
   * and benches; jobs due later stay due later.
   */
  async settle(): Promise<void> {
    for (;;) {
      for (const worker of this.workers.values()) worker.worked = false;
      this.kickAll();
      for (const worker of this.workers.values()) await worker.idle();
      if (![...this.workers.values()].some((worker) => worker.worked)) return;
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    for (const worker of this.workers.values()) await worker.stop();
    if (this.listener) {
      await this.listener.query('UNLISTEN *').catch(() => {});
      this.listener.release();
    }
  }
}
