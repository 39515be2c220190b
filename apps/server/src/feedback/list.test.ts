import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, project, RICH_SETTINGS, setProtection, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import { withTenant } from '../db/tenant.js';
import type { Project } from '../projects/service.js';
import { SEARCH_WINDOW, searchQuery } from './list.js';

// GET /api/v1/orgs/:orgId/feedback: the organization's inbox, every filter
// alone and together, search, pages, project limits and refusals.

let server: TestServer;
let owner: Account;
let member: Account;
let first: Project;
let second: Project;
let bugLabel: string;
let praiseLabel: string;
/** The ids of the items below, in the order they were sent (oldest first). */
const ids: string[] = [];
const times: string[] = [];

const ITEMS = [
  { project: 'first', message: 'The checkout button does nothing', rating: 1, type: 'bug' },
  { project: 'first', message: 'Love the new dashboard', rating: 5, type: 'idea' },
  { project: 'second', message: 'Checkout page is slow on mobile', rating: 2, type: 'bug' },
  { project: 'second', message: 'Search finds nothing for e-mail addresses', rating: 3, type: 'bug' },
  { project: 'first', message: `'; DROP TABLE feedback; -- <script>alert(1)</script>`, rating: 4, type: 'idea' },
  { project: 'first', message: 'Café menu: prices wrong at checkout.example.com', rating: 3, type: 'bug' },
] as const;

const org = () => `/api/v1/orgs/${owner.orgId}`;
const list = (query = '', account: Account = owner) => server.request('GET', `${org()}/feedback${query}`, { cookie: account.cookie });
/** The item numbers (1-based, as in ITEMS) a list answered, newest first. */
const numbers = (reply: { body: { items: { id: string }[] } }) => reply.body.items.map((item) => ids.indexOf(item.id) + 1);

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  member = await memberAccount(server, owner.orgId, 'member');
  first = await project(server, owner.orgId, ['example.com'], RICH_SETTINGS);
  second = await project(server, owner.orgId, ['example.com'], RICH_SETTINGS);
  for (const p of [first, second]) await setProtection(server, owner, p, { serverSubmissions: true });
  for (const item of ITEMS) {
    // A minute apart (the session's idle timeout is 30 minutes of the fake clock).
    server.clock.advance(60_000);
    times.push(server.clock.now().toISOString());
    const p = item.project === 'first' ? first : second;
    const reply = await server.request('POST', `${org()}/projects/${p.id}/feedback`, {
      cookie: owner.cookie, body: { message: item.message, rating: item.rating, type: item.type, email: 'reporter@example.test' },
    });
    expect(reply.status, reply.text).toBe(201);
    ids.push(reply.body.id);
  }
  const label = async (name: string) => (await server.request('POST', `${org()}/labels`, { cookie: owner.cookie, body: { name, color: '#aa0000' } })).body.id as string;
  bugLabel = await label('Bug');
  praiseLabel = await label('Praise');
  const triage = async (n: number, body: object) => expect((await server.request('PATCH', `${org()}/feedback/${ids[n - 1]}`, { cookie: owner.cookie, body })).status).toBe(200);
  await triage(1, { labelIds: [bugLabel], assigneeId: member.userId });
  await triage(2, { labelIds: [praiseLabel], status: 'done' });
  await triage(3, { labelIds: [bugLabel], assigneeId: member.userId, status: 'in_progress' });
  await triage(4, { assigneeId: owner.userId });
  await triage(5, { status: 'in_progress' });
  await triage(6, { labelIds: [bugLabel] });
});
afterAll(() => server.close());

describe('GET /api/v1/orgs/:orgId/feedback', () => {
  it('lists every project newest first, as items without personal data', async () => {
    const reply = await list();
    expect(reply.status).toBe(200);
    expect(numbers(reply)).toEqual([6, 5, 4, 3, 2, 1]);
    expect(reply.body.nextCursor).toBeNull();
    expect(Object.keys(reply.body.items[0]).sort()).toEqual(
      ['assigneeId', 'createdAt', 'hasScreenshot', 'id', 'labelIds', 'message', 'noteCount', 'pageUrl', 'projectId', 'rating', 'ratingScale', 'status', 'type', 'updatedAt', 'version'],
    );
    expect(reply.text).not.toContain('reporter@example.test');
    expect(reply.body.items[5]).toMatchObject({ projectId: first.id, labelIds: [bugLabel], assigneeId: member.userId, version: 2 });
  });

  it('pages with a cursor, and new feedback arriving meanwhile moves no page', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    let late: string | undefined;
    do {
      const reply = await list(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...numbers(reply));
      cursor = reply.body.nextCursor;
      if (!late) {
        server.clock.advance(1000);
        late = (await server.request('POST', `${org()}/projects/${second.id}/feedback`, { cookie: owner.cookie, body: { message: 'arrived while paging' } })).body.id;
      }
    } while (cursor);
    expect(seen).toEqual([6, 5, 4, 3, 2, 1]);
    expect((await server.request('DELETE', `${org()}/feedback/${late}`, { cookie: owner.cookie })).status).toBe(204);
  });

  it.each([
    ['projectId', () => `?projectId=${second.id}`, [4, 3]],
    ['status', () => '?status=in_progress', [5, 3]],
    ['status new', () => '?status=new', [6, 4, 1]],
    ['type', () => '?type=idea', [5, 2]],
    ['an exact rating', () => '?rating=3', [6, 4]],
    ['a rating range', () => '?ratingMin=2&ratingMax=3', [6, 4, 3]],
    ['a lowest rating', () => '?ratingMin=4', [5, 2]],
    ['a date range (from inclusive, to exclusive)', () => `?from=${times[2]}&to=${times[4]}`, [4, 3]],
    ['a label', () => `?label=${bugLabel}`, [6, 3, 1]],
    ['a label in one project', () => `?label=${bugLabel}&projectId=${first.id}`, [6, 1]],
    ['an assignee', () => `?assignee=${member.userId}`, [3, 1]],
    ['unassigned', () => '?assignee=none', [6, 5, 2]],
    ['a label, an assignee and a status', () => `?label=${bugLabel}&assignee=${member.userId}&status=new`, [1]],
    ['type, status, rating range and project', () => `?type=bug&status=new&ratingMax=3&projectId=${first.id}`, [6, 1]],
    ['an unknown label', () => '?label=00000000-0000-4000-8000-000000000000', []],
  ])('filters by %s', async (_name, query, expected) => {
    const reply = await list(query());
    expect(reply.status, reply.text).toBe(200);
    expect(numbers(reply)).toEqual(expected);
  });

  it.each([
    ['a word in any case', 'CHECKOUT', [6, 3, 1]],
    ['the start of a word', 'check', [6, 3, 1]],
    ['every word', 'checkout mobile', [3]],
    ['an accented word', 'café', [6]],
    ['a hyphenated word', 'e-mail', [4]],
    ['a host name', 'checkout.example.com', [6]],
    ['SQL in the text', 'DROP TABLE', [5]],
    ['a word in brackets', '(prices)', [6]],
    ['a word not there', 'refund', []],
  ])('searches for %s', async (_name, q, expected) => {
    const reply = await list(`?q=${encodeURIComponent(q)}`);
    expect(reply.status, reply.text).toBe(200);
    expect(numbers(reply)).toEqual(expected);
  });

  it('searches with filters and pages through the results', async () => {
    expect(numbers(await list(`?q=checkout&projectId=${first.id}&status=new`))).toEqual([6, 1]);
    const page = await list('?q=checkout&limit=2');
    expect(numbers(page)).toEqual([6, 3]);
    expect(numbers(await list(`?q=checkout&limit=2&cursor=${page.body.nextCursor}`))).toEqual([1]);
    const labelled = await list(`?label=${bugLabel}&limit=1`);
    expect(numbers(await list(`?label=${bugLabel}&limit=1&cursor=${labelled.body.nextCursor}`))).toEqual([3]);
  });

  it('treats query syntax, SQL and markup in q as text to find, never as a query', async () => {
    for (const q of [`' OR 1=1 --`, `a & b | !c`, 'foo:* <-> bar', '\\', `'`, '((', '<script>alert(1)</script>', '%', '_', '*']) {
      const reply = await list(`?q=${encodeURIComponent(q)}`);
      expect(reply.status, `${q}: ${reply.text}`).toBe(200);
      expect(numbers(reply).every((n) => n === 5), q).toBe(true);
    }
    const { rows } = await server.db.superuser.query(`SELECT count(*)::int AS n FROM feedback WHERE org_id = $1`, [owner.orgId]);
    expect(rows[0].n).toBe(ITEMS.length);
  });

  it("shows a member limited to one project only that project's feedback; another project is 404", async () => {
    const limited = await memberAccount(server, owner.orgId, 'viewer', [second.id]);
    expect(numbers(await list('', limited))).toEqual([4, 3]);
    expect(numbers(await list(`?label=${bugLabel}`, limited))).toEqual([3]);
    expect(numbers(await list('?q=checkout', limited))).toEqual([3]);
    const hidden = await list(`?projectId=${first.id}`, limited);
    expect(`${hidden.status} ${hidden.body.code}`).toBe('404 project_not_found');
  });

  it("answers 404 project_not_found for another tenant's project, and shows another tenant nothing of this one", async () => {
    const stranger = await ownerAccount(server);
    const theirs = await server.request('GET', `${org()}/feedback?projectId=${first.id}`.replace(owner.orgId, stranger.orgId), { cookie: stranger.cookie });
    expect(`${theirs.status} ${theirs.body.code}`).toBe('404 project_not_found');
    const own = await server.request('GET', `/api/v1/orgs/${stranger.orgId}/feedback`, { cookie: stranger.cookie });
    expect(own.body.items).toEqual([]);
    const intruder = await server.request('GET', `${org()}/feedback`, { cookie: stranger.cookie });
    expect(`${intruder.status} ${intruder.body.code}`).toBe('404 not_found');
  });

  it.each([
    '?status=deleted', '?status=new&status=done', '?limit=0', '?limit=101', '?limit=abc', '?cursor=bm9wZQ', '?other=1', '?rating=11', '?rating=-1',
    '?ratingMin=x', '?from=yesterday', '?to=2026-13-01T00:00:00Z', `?q=${'x'.repeat(201)}`, '?q=%20%20', '?assignee=bob', '?label=bug', '?projectId=1',
    '?type=Not%20A%20Slug', '?rating=3&ratingMin=1', '?ratingMin=4&ratingMax=2', '?from=2026-06-02T00:00:00Z&to=2026-06-01T00:00:00Z',
  ])('refuses %s with 400 validation_failed', async (query) => {
    const reply = await list(query);
    expect(`${reply.status} ${reply.body.code}`, reply.text).toBe('400 validation_failed');
    expect(reply.body.detail).toBeTruthy();
  });
});

describe('searching more rows than the search window', () => {
  it('finds rare words beyond the newest rows through the full-text index, common ones among them, and pages across both', async () => {
    const big = await ownerAccount(server);
    const p = await project(server, big.orgId);
    // Oldest first: a rare word in the oldest row, in row 300 (inside the window), and in a labelled old row.
    await server.db.superuser.query(
      `INSERT INTO feedback (id, org_id, project_id, message, created_at, updated_at)
       SELECT gen_random_uuid(), $1, $2, CASE WHEN n IN (1, 50, $3 - 300) THEN 'filler words and a zeppelin' ELSE 'filler words ' || n END,
              timestamptz '2026-01-01' + n * interval '1 second', timestamptz '2026-01-01' + n * interval '1 second'
         FROM generate_series(1, $3::int) AS n`,
      [big.orgId, p.id, SEARCH_WINDOW + 500],
    );
    const url = `/api/v1/orgs/${big.orgId}/feedback`;
    const search = (query: string) => server.request('GET', `${url}${query}`, { cookie: big.cookie });
    const messages = (reply: { body: { items: { message: string; createdAt: string }[] } }) => reply.body.items.map((i) => i.createdAt);
    const all = await search('?q=zeppelin');
    expect(messages(all)).toEqual([SEARCH_WINDOW + 200, 50, 1].map((n) => new Date(Date.parse('2026-01-01T00:00:00Z') + n * 1000).toISOString()));
    const first = await search('?q=zeppelin&limit=1');
    const second = await search(`?q=zeppelin&limit=1&cursor=${first.body.nextCursor}`);
    const third = await search(`?q=zeppelin&limit=1&cursor=${second.body.nextCursor}`);
    expect([...messages(first), ...messages(second), ...messages(third)]).toEqual(messages(all));
    expect(third.body.nextCursor).toBeNull();
    const common = await search('?q=filler&limit=100');
    expect(common.body.items).toHaveLength(100);
    expect(common.body.items[0].createdAt).toBe(new Date(Date.parse('2026-01-01T00:00:00Z') + (SEARCH_WINDOW + 500) * 1000).toISOString());
    const label = (await server.request('POST', `${url.replace('/feedback', '/labels')}`, { cookie: big.cookie, body: { name: 'Old', color: '#000000' } })).body.id;
    await server.request('PATCH', `${url}/${all.body.items[2].id}`, { cookie: big.cookie, body: { labelIds: [label] } });
    expect((await search(`?q=zeppelin&label=${label}`)).body.items.map((i: { id: string }) => i.id)).toEqual([all.body.items[2].id]);
  });
});

describe('the feedback_inbox view', () => {
  it("shows the app nothing without a tenant, only the tenant's rows with one, and no sealed column", async () => {
    const { app } = server.db;
    expect((await app.query('SELECT count(*)::int AS n FROM feedback_inbox')).rows[0].n).toBe(0);
    const scoped = await withTenant(app, owner.orgId, (tx) => tx.query('SELECT DISTINCT org_id FROM feedback_inbox'));
    expect(scoped.rows).toEqual([{ org_id: owner.orgId }]);
    const { rows } = await server.db.superuser.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'feedback_inbox'");
    expect(rows.map((r) => r.column_name).filter((name: string) => /_enc$|email|idempotency/.test(name))).toEqual([]);
    await expect(app.query('UPDATE feedback_inbox SET status = $1', ['done'])).rejects.toThrow(/permission denied/);
  });
});

describe('searchQuery', () => {
  it('quotes every word, so operators are text, and makes the last one a prefix', () => {
    expect(searchQuery('  checkout   mobile ')).toBe(`'checkout' & 'mobile':*`);
    expect(searchQuery(`it's a&b !c`)).toBe(`'it''s' & 'a&b' & '!c':*`);
    expect(searchQuery('back\\slash')).toBe(`'back\\\\slash':*`);
  });
});
