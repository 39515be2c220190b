import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { feedbackWithScreenshot, memberAccount, ownerAccount, project, SCREENSHOTS_ON, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from './service.js';

// A membership limited to projects sees those projects and their feedback;
// every other project of the organization answers exactly like a missing one.

let server: TestServer;
let owner: Account;
let limited: Account;
let granted: Project;
let hidden: Project;
let grantedFeedback: string;
let hiddenFeedback: string;

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  granted = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
  hidden = await project(server, owner.orgId, ['example.com'], SCREENSHOTS_ON);
  grantedFeedback = await feedbackWithScreenshot(server, granted, 'visible to the limited member');
  hiddenFeedback = await feedbackWithScreenshot(server, hidden, 'secret of the hidden project');
  limited = await memberAccount(server, owner.orgId, 'member', [granted.id]);
});
afterAll(() => server.close());

const org = () => `/api/v1/orgs/${owner.orgId}`;

describe('a member limited to one project', () => {
  it('lists only the granted project; the owner lists both', async () => {
    const mine = await server.request('GET', `${org()}/projects`, { cookie: limited.cookie });
    expect(mine.body.items.map((p: Project) => p.id)).toEqual([granted.id]);
    const all = await server.request('GET', `${org()}/projects`, { cookie: owner.cookie });
    expect(all.body.items.map((p: Project) => p.id).sort()).toEqual([granted.id, hidden.id].sort());
  });

  it('reads the granted project, its feedback and screenshot', async () => {
    expect((await server.request('GET', `${org()}/projects/${granted.id}`, { cookie: limited.cookie })).status).toBe(200);
    for (const query of ['', `?projectId=${granted.id}`]) {
      const inbox = await server.request('GET', `${org()}/feedback${query}`, { cookie: limited.cookie });
      expect(inbox.body.items.map((f: { id: string }) => f.id)).toEqual([grantedFeedback]);
    }
    expect((await server.request('GET', `${org()}/feedback/${grantedFeedback}`, { cookie: limited.cookie })).status).toBe(200);
    expect((await server.request('GET', `${org()}/feedback/${grantedFeedback}/screenshot`, { cookie: limited.cookie })).status).toBe(200);
    expect((await server.request('PATCH', `${org()}/feedback/${grantedFeedback}`, { cookie: limited.cookie, body: { status: 'in_progress' } })).status).toBe(200);
  });

  it('gets 404 project_not_found for the other project, as for a project that does not exist', async () => {
    for (const id of [hidden.id, '00000000-0000-4000-8000-000000000000']) {
      const reply = await server.request('GET', `${org()}/projects/${id}`, { cookie: limited.cookie });
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('project_not_found');
      expect(reply.text).not.toContain(hidden.name);
    }
  });

  it("gets 404 for the other project's inbox, feedback, screenshot and status change, and changes nothing", async () => {
    const inbox = await server.request('GET', `${org()}/feedback?projectId=${hidden.id}`, { cookie: limited.cookie });
    expect(inbox.status).toBe(404);
    expect(inbox.body.code).toBe('project_not_found');
    const replies = [
      await server.request('GET', `${org()}/feedback/${hiddenFeedback}`, { cookie: limited.cookie }),
      await server.request('GET', `${org()}/feedback/${hiddenFeedback}/screenshot`, { cookie: limited.cookie }),
      await server.request('PATCH', `${org()}/feedback/${hiddenFeedback}`, { cookie: limited.cookie, body: { status: 'archived' } }),
    ];
    for (const reply of replies) {
      expect(reply.status).toBe(404);
      expect(reply.body.code).toBe('not_found');
      expect(reply.text).not.toContain('secret of the hidden project');
    }
    const { rows } = await server.db.superuser.query('SELECT status FROM feedback WHERE id = $1', [hiddenFeedback]);
    expect(rows[0].status).toBe('new');
    const audit = await server.db.superuser.query(`SELECT 1 FROM audit_events WHERE target_id = $1`, [hiddenFeedback]);
    expect(audit.rowCount).toBe(0);
  });

  it('sees the other project once the limit is lifted (null = all projects), without logging in again', async () => {
    const lifted = await server.request('PATCH', `${org()}/members/${limited.userId}`, { cookie: owner.cookie, body: { projectIds: null } });
    expect(lifted.status).toBe(200);
    expect((await server.request('GET', `${org()}/feedback/${hiddenFeedback}`, { cookie: limited.cookie })).status).toBe(200);
    await server.request('PATCH', `${org()}/members/${limited.userId}`, { cookie: owner.cookie, body: { projectIds: [granted.id] } });
    expect((await server.request('GET', `${org()}/feedback/${hiddenFeedback}`, { cookie: limited.cookie })).status).toBe(404);
  });
});
