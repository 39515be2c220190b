import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiKey, bearer, memberAccount, ownerAccount, project, type Account } from '../../../../test/factories.js';
import { expectRefusal } from '../../../../test/refusal.js';
import { startTestServer, type Reply, type TestServer } from '../../../../test/server.js';
import { withTenant } from '../db/tenant.js';
import { recordAuditEvent, type Actor, type AuditEvent } from './service.js';

let server: TestServer;
let owner: Account;
let stranger: Account;

beforeAll(async () => {
  server = await startTestServer();
  stranger = await ownerAccount(server);
});
afterAll(() => server.close());

// Each test gets its own organization, whose chain starts with
// organization.created, member.added and login.succeeded.
beforeEach(async () => {
  owner = await ownerAccount(server);
});

const ALICE: Actor = { type: 'user', id: 'alice-id', label: 'alice@example.test', ip: '203.0.113.7' };
const KEY: Actor = { type: 'api_key', id: 'key-id', label: 'CRM sync (prl_AbCdEfGh…)', ip: '198.51.100.2' };

async function record(actor: Actor, event: AuditEvent, orgId = owner.orgId) {
  await withTenant(server.db.app, orgId, (tx) => recordAuditEvent(tx, orgId, actor, event, server.clock.now()));
}

const list = (query = '', headers: { cookie?: string; headers?: Record<string, string> } = { cookie: owner.cookie }) =>
  server.request('GET', `/api/v1/orgs/${owner.orgId}/audit${query}`, headers);

const actions = (reply: Reply) => reply.body.items.map((item: { action: string }) => item.action);

describe('GET /api/v1/orgs/:orgId/audit', () => {
  it('lists the events newest first with actor, target, data and the hash the database holds', async () => {
    await record(ALICE, { action: 'feedback.reporter_viewed', target: { type: 'feedback', id: 'f-1' }, data: { fields: ['email'] } });
    const reply = await list();
    expect(reply.status).toBe(200);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    expect(actions(reply)).toEqual(['feedback.reporter_viewed', 'login.succeeded', 'member.added', 'organization.created']);
    expect(reply.body.items[0]).toEqual({
      seq: 4,
      at: server.clock.now().toISOString(),
      actor: { type: 'user', id: 'alice-id', label: 'alice@example.test', ip: '203.0.113.7' },
      action: 'feedback.reporter_viewed',
      target: { type: 'feedback', id: 'f-1' },
      data: { fields: ['email'] },
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const { rows } = await server.db.superuser.query(`SELECT seq, encode(hash, 'hex') AS hash FROM audit_events WHERE org_id = $1 ORDER BY seq DESC`, [owner.orgId]);
    expect(reply.body.items.map((i: { seq: number; hash: string }) => ({ seq: String(i.seq), hash: i.hash }))).toEqual(rows);
    expect(reply.body.nextCursor).toBeNull();
  });

  it('pages by limit with the cursor of the page before, without gaps or repeats', async () => {
    for (let i = 0; i < 8; i++) await record(ALICE, { action: 'test.event', data: { i } });
    const seen: number[] = [];
    let query = '?limit=3';
    for (let pages = 0; ; pages++) {
      const reply = await list(query);
      expect(reply.status).toBe(200);
      seen.push(...reply.body.items.map((i: { seq: number }) => i.seq));
      if (reply.body.nextCursor === null) {
        expect(pages).toBe(3);
        break;
      }
      expect(reply.body.items).toHaveLength(3);
      query = `?limit=3&cursor=${reply.body.nextCursor}`;
    }
    expect(seen).toEqual([11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect((await list()).body.items).toHaveLength(11);
  });

  describe('filters', () => {
    // Events an hour or more after the organization's first three, recorded
    // with their own times (moving the clock would end the owner's session).
    let base: Date;
    const hoursLater = (hours: number) => new Date(base.getTime() + hours * 3_600_000);
    const record = async (actor: Actor, event: AuditEvent, hours: number) =>
      withTenant(server.db.app, owner.orgId, (tx) => recordAuditEvent(tx, owner.orgId, actor, event, hoursLater(hours)));

    beforeEach(async () => {
      base = server.clock.now();
      await record(ALICE, { action: 'feedback.reporter_viewed', target: { type: 'feedback', id: 'f-1' } }, 1);
      await record(KEY, { action: 'feedback.screenshot_viewed', target: { type: 'feedback', id: 'f-1' } }, 2);
      await record(KEY, { action: 'feedback.reporter_viewed', target: { type: 'feedback', id: 'f-2' } }, 2);
      await record(ALICE, { action: 'feedbacks.exported', target: { type: 'organization', id: owner.orgId } }, 3);
    });

    it.each([
      ['one action', () => '?action=feedback.reporter_viewed', ['feedback.reporter_viewed', 'feedback.reporter_viewed']],
      ['a prefix (not matching a longer word)', () => '?action=feedback.*', ['feedback.reporter_viewed', 'feedback.screenshot_viewed', 'feedback.reporter_viewed']],
      ['the target ("who saw this item")', () => '?targetId=f-1', ['feedback.screenshot_viewed', 'feedback.reporter_viewed']],
      ['the target type', () => '?targetType=organization', ['feedbacks.exported', 'organization.created']],
      ['the actor type', () => '?actorType=api_key', ['feedback.reporter_viewed', 'feedback.screenshot_viewed']],
      ['the actor', () => '?actorId=alice-id', ['feedbacks.exported', 'feedback.reporter_viewed']],
      ['from (inclusive)', () => `?from=${hoursLater(2).toISOString()}`, ['feedbacks.exported', 'feedback.reporter_viewed', 'feedback.screenshot_viewed']],
      ['to (exclusive)', () => `?to=${hoursLater(2).toISOString()}`, ['feedback.reporter_viewed', 'login.succeeded', 'member.added', 'organization.created']],
      [
        'several at once',
        () => `?action=feedback.*&actorType=api_key&targetId=f-2&from=${hoursLater(1.5).toISOString()}&to=${hoursLater(3).toISOString()}`,
        ['feedback.reporter_viewed'],
      ],
      ['nothing matching', () => '?action=webhook.*', []],
    ])('by %s', async (_, query, expected) => {
      const reply = await list(query());
      expect(reply.status).toBe(200);
      expect(actions(reply)).toEqual(expected);
    });
  });

  it('shows only its own organization: another tenant\'s events never appear, whatever the filter', async () => {
    await record(ALICE, { action: 'feedback.reporter_viewed', target: { type: 'feedback', id: 'theirs' } }, stranger.orgId);
    expect((await list('?targetId=theirs')).body.items).toEqual([]);
    expect((await list('?action=feedback.*')).body.items).toEqual([]);
  });

  describe('refusals, each changing nothing', () => {
    it.each([
      ['an action with a wildcard in the middle', '?action=feedback*'],
      ['an action with capitals', '?action=Feedback.viewed'],
      ['a lone wildcard', '?action=*'],
      ['an action with SQL in it', "?action=x'%20OR%20'1'='1"],
      ['an unknown actor type', '?actorType=robot'],
      ['a date that is not one', '?from=yesterday'],
      ['a cursor that is not a number', '?cursor=1%20OR%201=1'],
      ['a negative cursor', '?cursor=-1'],
      ['a limit of 0', '?limit=0'],
      ['a limit over 100', '?limit=101'],
      ['an unknown filter', '?projectId=x'],
      ['a target id over 100 characters', `?targetId=${'x'.repeat(101)}`],
    ])('400 validation_failed for %s', async (_, query) => {
      await expectRefusal(server, () => list(query), 400, 'validation_failed');
    });

    it.each(['member', 'viewer'] as const)('403 forbidden for a %s', async (role) => {
      const account = await memberAccount(server, owner.orgId, role);
      await expectRefusal(server, () => list('', { cookie: account.cookie }), 403, 'forbidden');
    });

    it("404 not_found for another organization's owner", async () => {
      await expectRefusal(server, () => list('', { cookie: stranger.cookie }), 404, 'not_found');
    });

    it('401 unauthenticated without a session', async () => {
      await expectRefusal(server, () => list('', {}), 401, 'unauthenticated');
    });
  });

  describe('with an API key', () => {
    it('reads the log with the audit_read scope, and its own request lands in it with the key as actor', async () => {
      const key = await apiKey(server, owner, { scopes: ['audit_read'] });
      const reply = await list('', { headers: bearer(key.token) });
      expect(reply.status).toBe(200);
      const again = await list('?actorType=api_key', { headers: bearer(key.token) });
      expect(again.body.items[0]).toMatchObject({ action: 'api_key.request', actor: { type: 'api_key', id: key.id }, data: { method: 'GET', route: '/api/v1/orgs/:orgId/audit', status: 200 } });
    });

    /** Refused, and the key's request is the one thing logged. */
    async function expectOnlyKeyRequestLogged(attempt: () => Promise<Reply>, detail: RegExp) {
      const { rows: [{ seq }] } = await server.db.superuser.query(`SELECT max(seq) AS seq FROM audit_events WHERE org_id = $1`, [owner.orgId]);
      const answer = await expectRefusal(server, attempt, 403, 'forbidden', ['audit_events', 'api_keys']);
      expect(answer.body.detail).toMatch(detail);
      const { rows } = await server.db.superuser.query(`SELECT action FROM audit_events WHERE org_id = $1 AND seq > $2`, [owner.orgId, seq]);
      expect(rows.map((r) => r.action)).toEqual(['api_key.request']);
    }

    it('403 forbidden for a key without the audit_read scope', async () => {
      const key = await apiKey(server, owner, { scopes: ['feedback_read'] });
      await expectOnlyKeyRequestLogged(() => list('', { headers: bearer(key.token) }), /audit_read/);
    });

    it('403 forbidden for a key limited to some projects: the log covers the whole organization', async () => {
      const p = await project(server, owner.orgId);
      const key = await apiKey(server, owner, { scopes: ['audit_read'], projectIds: [p.id] });
      await expectOnlyKeyRequestLogged(() => list('', { headers: bearer(key.token) }), /limited to some projects/);
    });
  });
});
