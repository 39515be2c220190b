import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { memberAccount, ownerAccount, project, RICH_SETTINGS, submit, type Account } from '../../../../test/factories.js';
import { PUBLIC_URL, type TestServer } from '../../../../test/server.js';
import { startMailingTestServer, type TestSmtp } from '../../../../test/smtp.js';
import { withTenant } from '../db/tenant.js';
import type { StoredEvent } from '../events/service.js';
import type { Project } from '../projects/service.js';
import { instantNotifications } from './instant.js';

let server: TestServer;
let smtp: TestSmtp;
let owner: Account;
let shop: Project;
let blog: Project;

beforeAll(async () => {
  ({ server, smtp } = await startMailingTestServer());
  // Today's digest (nobody asked for one yet) is done before any test starts.
  await server.jobsDone();
  owner = await ownerAccount(server, 'Acme');
  shop = await project(server, owner.orgId, ['example.com'], RICH_SETTINGS);
  blog = await project(server, owner.orgId);
});
afterAll(() => server.close());
beforeEach(async () => {
  smtp.received.length = 0;
  await server.db.superuser.query('DELETE FROM notification_settings');
});

/** The account's choice for a project of its own organization. */
async function choose(account: Account, p: Project, mode: 'instant' | 'daily' | 'none') {
  const reply = await server.request('PUT', '/api/v1/me/notifications', { cookie: account.cookie, body: { orgId: account.orgId, projectId: p.id, mode } });
  expect(reply.status).toBe(200);
}

async function feedback(p: Project, body: object = {}): Promise<string> {
  const reply = await submit(server, p.key, { message: 'The checkout button does nothing', ...body });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

const mailsTo = (account: Account) => smtp.received.filter((mail) => mail.to.includes(account.email));

describe('instant notifications (feedback.created)', () => {
  it('mails each member who chose instant, once per feedback, with project, type, rating, message and links, and no personal data of the reporter', async () => {
    const alice = await memberAccount(server, owner.orgId, 'member');
    const carol = await memberAccount(server, owner.orgId, 'viewer');
    await choose(alice, shop, 'instant');
    await choose(carol, shop, 'daily');
    const id = await feedback(
      shop,
      { rating: 2, type: 'bug', email: 'reporter@mail.test', pageUrl: 'https://example.com/cart?session=secret-page', custom: { plan: 'pro', note: 'private-note' } },
    );
    await feedback(blog);
    await server.jobsDone();

    const mails = mailsTo(alice);
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail!.subject).toBe(`New feedback in ${shop.name}: The checkout button does nothing`);
    expect(mail!.html).toBe(false);
    expect(mail!.text).toContain(`New feedback arrived in ${shop.name} (Acme).`);
    expect(mail!.text).toContain('Type: bug\nRating: 2/5 stars\n');
    expect(mail!.text).toContain('Message, as the reporter wrote it:\n\nThe checkout button does nothing\n');
    expect(mail!.text).toContain(`Open it in Parley: ${PUBLIC_URL}/orgs/${owner.orgId}/feedback/${id}\n`);
    expect(mail!.text).toContain(`${PUBLIC_URL}/account/notifications`);
    for (const personal of ['reporter@mail.test', 'secret-page', 'private-note', 'pro', '127.0.0.1', 'parley-tests']) expect(mail!.text).not.toContain(personal);
    // Nobody else: not the owner (none), not the digest reader, not for the other project.
    expect(smtp.received.map((m) => m.to)).toEqual([[alice.email]]);
    expect(mailsTo(carol)).toEqual([]);
  });

  it('sends one mail per feedback, and shortens a long message', async () => {
    const dan = await memberAccount(server, owner.orgId, 'admin');
    await choose(dan, blog, 'instant');
    await feedback(blog, { message: `${'long '.repeat(400)}END` });
    await feedback(blog, { message: 'second' });
    await server.jobsDone();
    const mails = mailsTo(dan);
    expect(mails).toHaveLength(2);
    const long = mails.find((m) => m.text.includes('long long'))!;
    expect(mails.find((m) => m !== long)!.subject).toBe(`New feedback in ${blog.name}: second`);
    expect(long.subject).toMatch(new RegExp(`^New feedback in ${blog.name}: (long )+long…$`));
    expect(long.subject.length).toBeLessThanOrEqual(120);
    expect(long.text).toContain('… (shortened; the whole message is in Parley)');
    expect(long.text).not.toContain('END');
  });

  it('sends nothing to a member removed after choosing instant, or to one who can no longer see the project', async () => {
    const alice = await memberAccount(server, owner.orgId, 'member');
    const removed = await memberAccount(server, owner.orgId, 'member');
    const narrowed = await memberAccount(server, owner.orgId, 'member', [shop.id]);
    for (const account of [alice, removed, narrowed]) await choose(account, shop, 'instant');
    expect((await server.request('DELETE', `/api/v1/orgs/${owner.orgId}/members/${removed.userId}`, { cookie: owner.cookie })).status).toBe(204);
    const patched = await server.request('PATCH', `/api/v1/orgs/${owner.orgId}/members/${narrowed.userId}`, { cookie: owner.cookie, body: { projectIds: [blog.id] } });
    expect(patched.status).toBe(200);
    await feedback(shop);
    await server.jobsDone();
    expect(smtp.received.map((m) => m.to)).toEqual([[alice.email]]);
  });

  it("sends nothing to another organization's members, whatever they chose", async () => {
    const stranger = await ownerAccount(server, 'Globex');
    const theirs = await project(server, stranger.orgId);
    await choose(stranger, theirs, 'instant');
    await feedback(shop);
    await feedback(blog);
    await server.jobsDone();
    expect(mailsTo(stranger)).toEqual([]);
  });

  it('keeps HTML and CR/LF from a message or project name out of the headers: a one-line subject, the text as text, no added recipient', async () => {
    const alice = await memberAccount(server, owner.orgId, 'member');
    const evil = await project(server, owner.orgId);
    await server.db.superuser.query('UPDATE projects SET name = $2 WHERE id = $1', [evil.id, 'Shop\r\nBcc: attacker@evil.test']);
    await choose(alice, evil, 'instant');
    const message = '<script>alert(1)</script><b>hi</b>\r\nBcc: attacker@evil.test\r\nX-Injected: yes\r\n.\r\nMAIL FROM:<x@evil.test>';
    await feedback(evil, { message });
    await server.jobsDone();
    expect(smtp.received.map((m) => m.to)).toEqual([[alice.email]]);
    const [mail] = mailsTo(alice);
    expect(mail!.subject).toBe('New feedback in Shop Bcc: attacker@evil.test: <script>alert(1)</script><b>hi</b> Bcc: attacker@evil.test X-Injected: ye…');
    expect(mail!.html).toBe(false);
    expect(mail!.text).toContain('New feedback arrived in Shop Bcc: attacker@evil.test (Acme).');
    expect(mail!.text).toContain('<script>alert(1)</script><b>hi</b>\nBcc: attacker@evil.test\nX-Injected: yes\n.\nMAIL FROM:<x@evil.test>');
  });

  it('mails nothing about feedback deleted before its event was dispatched', async () => {
    const alice = await memberAccount(server, owner.orgId, 'member');
    await choose(alice, shop, 'instant');
    const kept = await feedback(shop, { message: 'kept' });
    const gone = await feedback(shop, { message: 'gone' });
    await server.jobsDone();
    smtp.received.length = 0;
    const { rows } = await server.db.superuser.query(
      "SELECT id, org_id, project_id, type, subject_id, data, created_at FROM events WHERE type = 'feedback.created' AND subject_id = ANY($1::uuid[]) ORDER BY seq",
      [[kept, gone]],
    );
    const events: StoredEvent[] = rows.map((e) => ({ id: e.id, orgId: e.org_id, projectId: e.project_id, type: e.type, subjectId: e.subject_id, data: e.data, createdAt: e.created_at }));
    expect(events.map((e) => e.data.message)).toEqual(['kept', 'gone']);
    await server.db.superuser.query('DELETE FROM feedback WHERE id = $1', [gone]);
    // The dispatcher's subscriber over both events again, as after a crash: the kept one is the positive control.
    await withTenant(server.ctx.db.app, owner.orgId, (tx) => instantNotifications(server.ctx)(tx, owner.orgId, events, server.clock.now()));
    await server.jobsDone();
    expect(mailsTo(alice).map((mail) => mail.subject)).toEqual([`New feedback in ${shop.name}: kept`]);
  });
});
