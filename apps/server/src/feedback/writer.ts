import type pg from 'pg';
import { withTenant } from '../db/tenant.js';

/** A feedback row ready to insert: personal fields already sealed. */
export type FeedbackRow = {
  id: string;
  orgId: string;
  projectId: string;
  idempotencyKey: string | null;
  rating: number | null;
  ratingScale: 'stars' | 'thumbs' | 'emoji' | 'nps' | null;
  type: string | null;
  message: string;
  emailEnc: Buffer | null;
  emailIndex: Buffer | null;
  ipEnc: Buffer;
  userAgentEnc: Buffer | null;
  customEnc: Buffer | null;
  pageUrl: string | null;
  locale: string | null;
  viewportWidth: number | null;
  viewportHeight: number | null;
  createdAt: Date;
  consent: boolean | null;
  identityEnc: Buffer | null;
  identityVerified: boolean | null;
  metadataEnc: Buffer | null;
  contextEnc: Buffer | null;
  screenshotId: string | null;
};

type Pending = { row: FeedbackRow; resolve: (id: string) => void; reject: (error: unknown) => void };

const MAX_BATCH = 500;

// One statement, one round trip, one commit per organization's batch (the
// function sets the tenant scope; see the migration).
const INSERT = `SELECT insert_feedback_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24) AS id`;

/**
 * Group commit for ingestion: submissions that arrive while a write is in
 * flight are inserted together by the next one, one transaction per
 * organization. Each caller is answered only after its row is committed
 * (and fsynced), so a 201 always means the feedback survives a crash.
 */
export class FeedbackWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    // Measured (bench/README.md): two batches in flight keep the database busy
    // while letting batches grow; more only adds round trips.
    private readonly maxInFlight = 2,
  ) {}

  /** Stores the row; resolves to its id, or to the earlier row's id when the idempotency key was seen before. */
  write(row: FeedbackRow): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once everything queued so far is written (graceful shutdown). */
  drained(): Promise<void> {
    if (this.queue.length === 0 && this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.queue.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.flush(batch).finally(() => {
        this.inFlight--;
        if (this.queue.length > 0) this.pump();
        else if (this.inFlight === 0) for (const resolve of this.idle.splice(0)) resolve();
      });
    }
  }

  private async flush(batch: Pending[]): Promise<void> {
    const byOrg = new Map<string, Pending[]>();
    for (const pending of batch) {
      const group = byOrg.get(pending.row.orgId);
      if (group) group.push(pending);
      else byOrg.set(pending.row.orgId, [pending]);
    }
    await Promise.all([...byOrg].map(([orgId, items]) => this.flushOrganization(orgId, items)));
  }

  private async flushOrganization(orgId: string, items: Pending[]): Promise<void> {
    try {
      const ids = await this.insert(orgId, items.map((p) => p.row));
      items.forEach((p, i) => p.resolve(ids[i]!));
    } catch (error) {
      // One bad row (say, its project was just deleted) must not fail the
      // others that happened to share its batch: retry them one by one.
      if (items.length === 1) return items[0]!.reject(error);
      for (const item of items) await this.flushOrganization(orgId, [item]);
    }
  }

  private async insert(orgId: string, rows: FeedbackRow[]): Promise<string[]> {
    const col = <K extends keyof FeedbackRow>(key: K) => rows.map((r) => r[key]);
    const inserted = await this.pool.query<{ id: string }>(INSERT, [
      orgId, col('id'), col('projectId'), col('idempotencyKey'), col('rating'), col('type'), col('message'), col('emailEnc'),
      col('emailIndex'), col('ipEnc'), col('userAgentEnc'), col('customEnc'), col('pageUrl'), col('locale'), col('viewportWidth'),
      col('viewportHeight'), col('createdAt'), col('consent'), col('identityEnc'), col('identityVerified'), col('metadataEnc'), col('contextEnc'),
      col('screenshotId'), col('ratingScale'),
    ]);
    const stored = new Set(inserted.rows.map((r) => r.id));
    const replays = rows.filter((r) => !stored.has(r.id));
    if (replays.length === 0) return rows.map((r) => r.id);
    // Retries carrying an Idempotency-Key already stored get the first row's id.
    const existing = await withTenant(this.pool, orgId, (tx) =>
      tx.query<{ project_id: string; idempotency_key: string; id: string }>(
        `SELECT f.project_id, f.idempotency_key, f.id FROM feedback f
           JOIN unnest($1::uuid[], $2::text[]) AS k(project_id, idem) ON f.project_id = k.project_id AND f.idempotency_key = k.idem`,
        [replays.map((r) => r.projectId), replays.map((r) => r.idempotencyKey)],
      ),
    );
    const byKey = new Map(existing.rows.map((r) => [`${r.project_id}:${r.idempotency_key}`, r.id]));
    return rows.map((r) => (stored.has(r.id) ? r.id : byKey.get(`${r.projectId}:${r.idempotencyKey}`)!));
  }
}
