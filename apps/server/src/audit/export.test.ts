import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { apiKey, bearer, memberAccount, ownerAccount, project, type Account } from '../../../../test/factories.js';
import { expectRefusal } from '../../../../test/refusal.js';
import { snapshot } from '../../../../test/route-sweep.js';
import { startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import { withTenant } from '../db/tenant.js';
import { chainHash, type AuditRecord } from './chain.js';
import { EXPORT_PAGE, startAuditExport } from './log.js';
import { recordAuditEvent } from './service.js';

let server: TestServer;
let owner: Account;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

beforeEach(async () => {
  owner = await ownerAccount(server);
});

type Line = {
  orgId: string; seq: number; at: string; actor: { type: string; id: string | null; label: string | null; ip: string | null }; action: string;
  target: { type: string | null; id: string | null } | null; data: Record<string, unknown>; prevHash: string; hash: string;
};

// The recipe of docs/api.md ("Verifying an export"), written from the
// documentation rather than imported, as a customer would.
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const object = value as Record<string, unknown>;
  return `{${Object.keys(object).sort().map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`).join(',')}}`;
}
function expectedHash(line: Line): string {
  const record = {
    orgId: line.orgId, seq: line.seq, at: line.at, actorType: line.actor.type, actorId: line.actor.id, actorLabel: line.actor.label, ip: line.actor.ip,
    action: line.action, targetType: line.target?.type ?? null, targetId: line.target?.id ?? null, data: line.data,
  };
  return createHash('sha256').update(Buffer.from(line.prevHash, 'hex')).update(canonical(record)).digest('hex');
}
/** Every line hashes right, and each links to the one before it from the genesis hash on. */
function verifyWholeChain(lines: Line[]): void {
  let previous = '0'.repeat(64);
  lines.forEach((line, i) => {
    expect(line.seq, `line ${i + 1}`).toBe(i + 1);
    expect(line.prevHash, `line ${i + 1}`).toBe(previous);
    expect(expectedHash(line), `line ${i + 1}`).toBe(line.hash);
    previous = line.hash;
  });
}

const parse = (reply: Reply): Line[] => reply.text.split('\n').filter(Boolean).map((text) => JSON.parse(text));
const exportLog = (query = '', options: { cookie?: string; headers?: Record<string, string> } = { cookie: owner.cookie }) =>
  server.request('GET', `/api/v1/orgs/${owner.orgId}/audit/export${query}`, options);
const exportsRecorded = async (orgId = owner.orgId) =>
  (await server.db.superuser.query(`SELECT actor_type, data FROM audit_events WHERE org_id = $1 AND action = 'audit.exported' ORDER BY seq`, [orgId])).rows;

/** Appends `count` valid events to the organization's chain in one statement (the export's page size is what is under test, not recordAuditEvent). */
async function appendEvents(orgId: string, count: number): Promise<void> {
  const { rows } = await server.db.superuser.query(`SELECT seq, hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC LIMIT 1`, [orgId]);
  let prevHash: Buffer = rows[0].hash;
  let seq = Number(rows[0].seq);
  const at = server.clock.now();
  const columns: { seq: number[]; data: string[]; prev: Buffer[]; hash: Buffer[] } = { seq: [], data: [], prev: [], hash: [] };
  for (let i = 0; i < count; i++) {
    seq++;
    const record: AuditRecord = { orgId, seq, at, actorType: 'system', actorId: null, actorLabel: null, ip: null, action: 'bulk.event', targetType: null, targetId: null, data: { i } };
    const hash = chainHash(prevHash, record);
    columns.seq.push(seq);
    columns.data.push(JSON.stringify(record.data));
    columns.prev.push(prevHash);
    columns.hash.push(hash);
    prevHash = hash;
  }
  await server.db.superuser.query(
    `INSERT INTO audit_events (org_id, seq, at, actor_type, action, data, prev_hash, hash)
     SELECT $1, s, $2, 'system', 'bulk.event', d::jsonb, p, h FROM unnest($3::bigint[], $4::text[], $5::bytea[], $6::bytea[]) AS t(s, d, p, h)`,
    [orgId, at, columns.seq, columns.data, columns.prev, columns.hash],
  );
}

describe('GET /api/v1/orgs/:orgId/audit/export', () => {
  it('streams the whole chain as JSON Lines, oldest first, ending with the record of this export, and every line verifies', async () => {
    const reply = await exportLog();
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(reply.headers.get('content-disposition')).toBe('attachment; filename="parley-audit-2026-06-01.jsonl"');
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const lines = parse(reply);
    expect(lines.map((l) => l.action)).toEqual(['organization.created', 'member.added', 'login.succeeded', 'audit.exported']);
    verifyWholeChain(lines);
    expect(lines.every((l) => l.orgId === owner.orgId)).toBe(true);
    // Recorded (and committed) before the first line went out: the export holds its own record.
    expect(lines.at(-1)).toMatchObject({ actor: { type: 'user', id: owner.userId, label: owner.email, ip: '127.0.0.1' }, target: { type: 'organization', id: owner.orgId }, data: { filters: {} } });
    const { rows } = await server.db.superuser.query(`SELECT encode(hash, 'hex') AS hash FROM audit_events WHERE org_id = $1 ORDER BY seq`, [owner.orgId]);
    expect(lines.map((l) => l.hash)).toEqual(rows.map((r) => r.hash));
  });

  it(`reads the log a page (${EXPORT_PAGE} events) at a time, and the pages join without gaps or repeats`, async () => {
    await appendEvents(owner.orgId, 2 * EXPORT_PAGE + 17);
    const reply = await exportLog();
    const lines = parse(reply);
    expect(lines).toHaveLength(3 + 2 * EXPORT_PAGE + 17 + 1);
    verifyWholeChain(lines);
  });

  it('applies the filters, records them with the export, and each exported line still verifies on its own', async () => {
    await withTenant(server.db.app, owner.orgId, async (tx) => {
      for (const id of ['f-1', 'f-2', 'f-1']) {
        await recordAuditEvent(tx, owner.orgId, { type: 'user', id: owner.userId, label: owner.email }, { action: 'feedback.reporter_viewed', target: { type: 'feedback', id } }, server.clock.now());
      }
    });
    const reply = await exportLog('?targetId=f-1&action=feedback.*');
    const lines = parse(reply);
    expect(lines.map((l) => [l.seq, l.target?.id])).toEqual([[4, 'f-1'], [6, 'f-1']]);
    for (const line of lines) expect(expectedHash(line)).toBe(line.hash);
    expect(await exportsRecorded()).toEqual([{ actor_type: 'user', data: { filters: { targetId: 'f-1', action: 'feedback.*' } } }]);
  });

  it('passes the verification script of docs/api.md, which names the first tampered line', async () => {
    const doc = await readFile(new URL('../../../../docs/api.md', import.meta.url), 'utf8');
    const script = /### Verifying an export[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(script, 'docs/api.md has a js block under "Verifying an export"').toBeDefined();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-verify-'));
    try {
      await writeFile(path.join(dir, 'verify-audit.mjs'), script!);
      const run = (file: string) => promisify(execFile)(process.execPath, [path.join(dir, 'verify-audit.mjs'), path.join(dir, file)]);
      const whole = (await exportLog()).text;
      await writeFile(path.join(dir, 'audit.jsonl'), whole);
      expect((await run('audit.jsonl')).stdout).toBe('verified up to event 4, the whole chain\n');
      await writeFile(path.join(dir, 'filtered.jsonl'), (await exportLog('?action=audit.exported')).text);
      expect((await run('filtered.jsonl')).stdout).toBe('verified up to event 5, with 1 gap(s): a filtered export\n');
      await writeFile(path.join(dir, 'edited.jsonl'), whole.replace('"action":"member.added"', '"action":"member.removed"'));
      await expect(run('edited.jsonl')).rejects.toThrow(/event 2: its contents do not match its hash/);
      const lines = whole.trim().split('\n');
      await writeFile(path.join(dir, 'dropped.jsonl'), [lines[0], ...lines.slice(2)].join('\n'));
      await expect(run('dropped.jsonl')).resolves.toMatchObject({ stdout: 'verified up to event 4, with 1 gap(s): a filtered export\n' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("never includes another organization's events", async () => {
    const other = await ownerAccount(server);
    await appendEvents(other.orgId, 5);
    const lines = parse(await exportLog());
    expect(new Set(lines.map((l) => l.orgId))).toEqual(new Set([owner.orgId]));
  });

  it('works for an API key with audit_read without re-authentication, and names the key', async () => {
    const key = await apiKey(server, owner, { scopes: ['audit_read'] });
    server.clock.advance(11 * 60_000);
    const reply = await exportLog('', { headers: bearer(key.token) });
    expect(reply.status).toBe(200);
    expect(parse(reply).at(-1)).toMatchObject({ action: 'audit.exported', actor: { type: 'api_key', id: key.id } });
  });

  describe('refusals record nothing and change nothing', () => {
    it('403 reauth_required for a session whose last sign-in is over 10 minutes old', async () => {
      server.clock.advance(11 * 60_000);
      const answer = await expectRefusal(server, () => exportLog(), 403, 'reauth_required');
      expect(answer.body.detail).toMatch(/Confirm it is you/);
    });

    it.each(['member', 'viewer'] as const)('403 forbidden for a %s', async (role) => {
      const account = await memberAccount(server, owner.orgId, role);
      await expectRefusal(server, () => exportLog('', { cookie: account.cookie }), 403, 'forbidden');
    });

    it("404 not_found for another organization's owner", async () => {
      const stranger = await ownerAccount(server);
      await expectRefusal(server, () => exportLog('', { cookie: stranger.cookie }), 404, 'not_found');
    });

    it('404 for HEAD (no body to read a code from), which would record an export and send nothing', async () => {
      const before = await snapshot(server);
      expect((await server.request('HEAD', `/api/v1/orgs/${owner.orgId}/audit/export`, { cookie: owner.cookie })).status).toBe(404);
      expect(await snapshot(server)).toEqual(before);
    });

    it('400 validation_failed for a bad filter', async () => {
      await expectRefusal(server, () => exportLog('?action=*'), 400, 'validation_failed');
      await expectRefusal(server, () => exportLog('?limit=5'), 400, 'validation_failed');
    });

    it('403 forbidden for an API key limited to some projects (only its request is logged)', async () => {
      const p = await project(server, owner.orgId);
      const key = await apiKey(server, owner, { scopes: ['audit_read'], projectIds: [p.id] });
      const answer = await expectRefusal(server, () => exportLog('', { headers: bearer(key.token) }), 403, 'forbidden', ['audit_events', 'api_keys']);
      expect(answer.body.detail).toMatch(/limited to some projects/);
      expect(await exportsRecorded()).toEqual([]);
    });

    it('409 conflict with Retry-After while another export of the organization runs; the next one after it works', async () => {
      const running = await startAuditExport(server.ctx, owner.orgId, null, {}, { type: 'system' });
      const answer = await expectRefusal(server, () => exportLog(), 409, 'conflict');
      expect(answer.body.detail).toMatch(/already running/);
      expect(answer.headers.get('retry-after')).toBe('30');
      running.stream.resume();
      await once(running.stream, 'close');
      expect((await exportLog()).status).toBe(200);
      expect((await exportsRecorded()).map((r) => r.actor_type)).toEqual(['system', 'user']);
    });
  });

  describe('a client that stops reading or goes away', () => {
    // Until the server has let go of the lock (each try is a whole export, slow on a loaded machine).
    const WAIT = { timeout: 15_000, interval: 50 };

    it('is cut off after the stall time, which frees the organization for the next export', async () => {
      const stalled = await startAuditExport(server.ctx, owner.orgId, null, {}, { type: 'system' }, 50);
      const [error] = await once(stalled.stream, 'error');
      expect(String(error)).toMatch(/read nothing for 50 ms/);
      await vi.waitFor(async () => expect((await exportLog()).status).toBe(200), WAIT);
    });

    it('frees the organization when the client hangs up mid-stream', async () => {
      await appendEvents(owner.orgId, 3 * EXPORT_PAGE);
      const url = new URL(`/api/v1/orgs/${owner.orgId}/audit/export`, server.url);
      const request = http.get(url, { headers: { cookie: owner.cookie, 'sec-fetch-site': 'same-origin' } });
      const [response] = (await once(request, 'response')) as [http.IncomingMessage];
      expect(response.statusCode).toBe(200);
      await once(response, 'data');
      request.destroy();
      await vi.waitFor(async () => expect((await exportLog()).status).toBe(200), WAIT);
      expect(await exportsRecorded()).toHaveLength(2);
    });
  });
});
