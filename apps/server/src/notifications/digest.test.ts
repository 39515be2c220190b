import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logIn, memberAccount, ownerAccount, project, RICH_SETTINGS, submit, type Account } from '../../../../test/factories.js';
import { PUBLIC_URL, startTestServer, type TestServer } from '../../../../test/server.js';
import { startMailingTestServer, type TestSmtp } from '../../../../test/smtp.js';
import type { Project } from '../projects/service.js';
import { digestTimeToday } from './digest.js';

// The fake clock starts on 2026-06-01 at 12:00 UTC; the digest goes out at 09:00.

let server: TestServer;
let smtp: TestSmtp;
let owner: Account;
let shop: Project;
let blog: Project;
let quiet: Project;
let alice: Account;
let bob: Account;
let carol: Account;
let dave: Account;

async function choose(account: Account, p: Project, mode: 'instant' | 'daily' | 'none') {
  const reply = await server.request('PUT', '/api/v1/me/notifications', { cookie: account.cookie, body: { orgId: account.orgId, projectId: p.id, mode } });
  expect(reply.status).toBe(200);
}

async function feedback(p: Project, message: string, body: object = {}) {
  expect((await submit(server, p.key, { message, ...body })).status).toBe(201);
}

/** Moves the clock to `hour`:00 UTC on `day` of June 2026. */
function moveTo(day: number, hour: number, minute = 0) {
  server.clock.advance(Date.UTC(2026, 5, day, hour, minute) - server.clock.now().getTime());
}

const digests = () => smtp.received.filter((mail) => mail.subject.startsWith('Parley daily digest'));
const runs = async () => (await server.db.superuser.query(`SELECT to_char(day, 'YYYY-MM-DD') AS day FROM digest_runs ORDER BY day`)).rows.map((r) => r.day);

beforeAll(async () => {
  ({ server, smtp } = await startMailingTestServer({ PARLEY_DIGEST_HOUR: '9' }));
  // June 1st's digest went out at start-up (to nobody: nobody had asked for one).
  await server.jobsDone();
  owner = await ownerAccount(server, 'Acme');
  shop = await project(server, owner.orgId, ['example.com'], RICH_SETTINGS);
  blog = await project(server, owner.orgId);
  quiet = await project(server, owner.orgId);
  alice = await memberAccount(server, owner.orgId, 'member');
  // Chose daily for the shop, then lost sight of it: gets the blog only.
  bob = await memberAccount(server, owner.orgId, 'member', [shop.id, blog.id]);
  carol = await memberAccount(server, owner.orgId, 'viewer');
  dave = await memberAccount(server, owner.orgId, 'member');
  await choose(alice, shop, 'daily');
  await choose(alice, blog, 'daily');
  await choose(bob, shop, 'daily');
  await choose(bob, blog, 'daily');
  await choose(carol, quiet, 'daily');
  await choose(dave, shop, 'instant');
  const narrowed = await server.request('PATCH', `/api/v1/orgs/${owner.orgId}/members/${bob.userId}`, { cookie: owner.cookie, body: { projectIds: [blog.id] } });
  expect(narrowed.status).toBe(200);
});
afterAll(() => server.close());

describe('digestTimeToday', () => {
  it('is the hour on the current UTC day once it has come, null before', () => {
    expect(digestTimeToday(new Date('2026-06-02T08:59:59.999Z'), 9)).toBeNull();
    expect(digestTimeToday(new Date('2026-06-02T09:00:00.000Z'), 9)).toEqual(new Date('2026-06-02T09:00:00.000Z'));
    expect(digestTimeToday(new Date('2026-06-02T23:59:00.000Z'), 0)).toEqual(new Date('2026-06-02T00:00:00.000Z'));
  });
});

describe('the daily digest', () => {
  it("sends nothing before the hour, then once each member's digest of the last 24 hours, newest first, 10 per project", async () => {
    expect(await runs()).toEqual(['2026-06-01']);
    for (let i = 1; i <= 12; i++) {
      server.clock.advance(60_000);
      await feedback(shop, `shop message ${i}`, i === 12 ? { type: 'bug', rating: 5 } : {});
    }
    await feedback(blog, 'blog message', { email: 'reporter@mail.test', pageUrl: 'https://example.com/?secret-page' });
    smtp.received.length = 0;

    moveTo(2, 8, 59);
    await server.jobsDone();
    expect(digests()).toEqual([]);
    expect(await runs()).toEqual(['2026-06-01']);

    moveTo(2, 9);
    await server.jobsDone();
    expect(await runs()).toEqual(['2026-06-01', '2026-06-02']);
    expect(digests().map((m) => m.to)).toEqual(expect.arrayContaining([[alice.email], [bob.email]]));
    expect(digests()).toHaveLength(2);

    const [mail] = digests().filter((m) => m.to.includes(alice.email));
    expect(mail!.subject).toBe('Parley daily digest for Acme: 13 new feedback');
    expect(mail!.html).toBe(false);
    const text = mail!.text;
    expect(text).toContain('New feedback in Acme from 2026-06-01 09:00 UTC to 2026-06-02 09:00 UTC, newest first.');
    expect(text).toContain(`${shop.name}: 12 new\n  - [bug, 5/5 stars] shop message 12\n    ${PUBLIC_URL}/orgs/${owner.orgId}/feedback/`);
    for (let i = 3; i <= 12; i++) expect(text).toContain(`shop message ${i}\n`);
    expect(text).not.toContain('shop message 2\n');
    expect(text.indexOf('shop message 12')).toBeLessThan(text.indexOf('shop message 3\n'));
    expect(text).toContain(`  … and 2 more: ${PUBLIC_URL}/orgs/${owner.orgId}/projects/${shop.id}`);
    expect(text).toContain(`${blog.name}: 1 new\n  - blog message\n`);
    expect(text).toContain(`${PUBLIC_URL}/account/notifications`);
    for (const personal of ['reporter@mail.test', 'secret-page', '127.0.0.1']) expect(text).not.toContain(personal);

    // Bob no longer sees the shop: his digest is the blog alone.
    const [forBob] = digests().filter((m) => m.to.includes(bob.email));
    expect(forBob!.subject).toBe('Parley daily digest for Acme: 1 new feedback');
    expect(forBob!.text).not.toContain(shop.name);
    // Carol's project had nothing new; Dave asked for instant mails, not a digest.
    expect(smtp.received.filter((m) => m.to.includes(carol.email) || m.to.includes(dave.email)).filter((m) => m.subject.startsWith('Parley daily'))).toEqual([]);
  });

  it('goes out once a day however many rounds and instances run, and a late run covers the same 24 hours', async () => {
    smtp.received.length = 0;
    moveTo(2, 10);
    await feedback(shop, 'after the 2nd digest');
    await server.jobsDone();
    expect(digests()).toEqual([]);

    const second = await startTestServer({ SMTP_URL: smtp.url, PARLEY_DIGEST_HOUR: '9' }, { database: server.db });
    try {
      second.clock.advance(Date.UTC(2026, 5, 3, 15) - second.clock.now().getTime());
      moveTo(3, 15);
      // Both instances race for the day; the digest_runs row lets one through.
      await Promise.all([server.jobsDone(), second.jobsDone(), server.jobsDone()]);
    } finally {
      await second.close();
    }
    expect(await runs()).toEqual(['2026-06-01', '2026-06-02', '2026-06-03']);
    expect(digests().map((m) => m.to)).toEqual([[alice.email]]);
    const text = digests()[0]!.text;
    expect(text).toContain('from 2026-06-02 09:00 UTC to 2026-06-03 09:00 UTC');
    expect(text).toContain(`${shop.name}: 1 new\n  - after the 2nd digest\n`);
    expect(text).not.toContain('shop message');
  });

  it('sends no mail on a day with nothing new, and none to a member who left', async () => {
    smtp.received.length = 0;
    expect((await server.request('DELETE', `/api/v1/orgs/${owner.orgId}/members/${alice.userId}`, { cookie: await logIn(server, owner.email) })).status).toBe(204);
    moveTo(3, 16);
    await feedback(shop, 'alice has gone');
    moveTo(4, 9);
    await server.jobsDone();
    expect(await runs()).toContain('2026-06-04');
    expect(digests()).toEqual([]);
    moveTo(5, 9);
    await server.jobsDone();
    expect(await runs()).toContain('2026-06-05');
    expect(digests()).toEqual([]);
  });
});
