import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Clock } from '../context.js';
import { withTenant } from '../db/tenant.js';

// Refusals are counted per project, hour and problem code for the Protection
// page. A flood refuses thousands of requests a second, so counts add up in
// memory and reach the database in one statement per organization every few
// seconds, never one write per refusal.

const FLUSH_MS = 10_000;
export const HOUR_MS = 3_600_000;

/** The start of the hour `ms` falls in: refusals are counted per hour. */
export const startOfHour = (ms: number) => Math.floor(ms / HOUR_MS) * HOUR_MS;

type Tally = { orgId: string; projectId: string; hour: number; code: string; count: number };

export class RefusalCounter {
  private tallies = new Map<string, Tally>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
  ) {}

  count(project: { id: string; orgId: string }, code: string): void {
    this.add({ orgId: project.orgId, projectId: project.id, hour: startOfHour(this.clock.now().getTime()), code, count: 1 });
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Writes the counts gathered so far; on a database error they are kept for the next flush. */
  async flush(): Promise<void> {
    if (this.tallies.size === 0) return;
    const pending = this.tallies;
    this.tallies = new Map();
    const byOrg = new Map<string, Tally[]>();
    for (const tally of pending.values()) {
      const tallies = byOrg.get(tally.orgId);
      if (tallies) tallies.push(tally);
      else byOrg.set(tally.orgId, [tally]);
    }
    for (const [orgId, tallies] of byOrg) {
      try {
        await withTenant(this.pool, orgId, (tx) =>
          tx.query(
            `INSERT INTO protection_refusals (org_id, project_id, hour, code, count)
             SELECT $1, t.project_id, t.hour, t.code, t.count FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::bigint[]) AS t(project_id, hour, code, count)
             JOIN projects p ON p.id = t.project_id -- a project deleted meanwhile takes its counts with it
             ON CONFLICT (project_id, hour, code) DO UPDATE SET count = protection_refusals.count + EXCLUDED.count`,
            [orgId, tallies.map((t) => t.projectId), tallies.map((t) => new Date(t.hour)), tallies.map((t) => t.code), tallies.map((t) => t.count)],
          ),
        );
      } catch (error) {
        this.log.warn({ err: error }, 'refusal counts not saved yet');
        for (const tally of tallies) this.add(tally);
      }
    }
  }

  /** Adds to the tally of the same project, hour and code (kept under the hour it happened in). */
  private add(tally: Tally): void {
    const key = `${tally.projectId}|${tally.hour}|${tally.code}`;
    const known = this.tallies.get(key);
    if (known) known.count += tally.count;
    else this.tallies.set(key, { ...tally });
  }
}
