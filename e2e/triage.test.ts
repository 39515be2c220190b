// Triage in real Chromium against the real `parley serve`: feedback arrives
// through the REST API once the project accepts server submissions; the
// owner filters the inbox by text and status (kept in the address across a
// reload), pages through it, opens an item, assigns it to a member, labels
// it, writes a note and changes its status. Meanwhile the member changes the
// same item in a browser of her own, so the owner's next change is refused
// (412): the page says so and shows her version, and nothing is overwritten.
// The reporter's details load only after "Show reporter details", and that
// view is in the audit log. Then a feedback and the whole project are
// deleted. Markup in the message, a note and a label stays text; axe finds no
// WCAG 2.1 AA violation on the inbox and the feedback page, at desktop and
// phone widths.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserStory, CLEAN_UP_TIMEOUT_MS, SET_UP_TIMEOUT_MS, axeViolations, browserSkipReason, createProject, overflowingElements, setUpOwner } from './support.js';

const skipReason = browserSkipReason('triage story');

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const MEMBER = { name: 'Grace Hopper', email: 'grace@example.com', password: 'a ship in port is safe' };
const PROJECT = 'Acme shop';
const REPORTER_EMAIL = 'jane.reporter@example.org';
/** Markup that would run if any of these were ever rendered as HTML. */
const XSS_MESSAGE = '<img src=x onerror="window.__xss=1">The checkout button does nothing';
const XSS_NOTE = '<script>window.__xss=2</script>Reproduced on Safari; <b>fix</b> in 2.4.1';
const XSS_LABEL = '<img src=x onerror=window.__xss=3>';
const IDEA = 'Love the new search, please keep it';
const TOTAL_WRONG = 'Checkout total looks wrong on mobile';
/** More than one page of the inbox (25). */
const FILLERS = 24;

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html'],
  dataDirPrefix: 'parley-e2e-triage-',
  screenshotDirPrefix: 'parley-e2e-triage-screenshots-',
});
const { step, screenshot } = story;

// What the story hands from one step to the next.
let page: Page;
let member: Page;
let orgId = '';
let projectId = '';
let ownerId = '';
const ids: Record<'xss' | 'idea' | 'total', string> = { xss: '', idea: '', total: '' };
/** The reporter reads the owner's pages asked for, in order. */
const reporterReads: string[] = [];

type Answer = { status: number; body: unknown; etag: string | null };

/** A REST API call from a signed-in page: same origin, its session cookie. */
function call(on: Page, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return on.evaluate(
    async ({ method, path, body, headers }) => {
      const response = await fetch(path, {
        method,
        headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? null : (JSON.parse(text) as unknown), etag: response.headers.get('ETag') };
    },
    { method, path, body, headers },
  );
}

const sendFeedback = (body: Record<string, unknown>) => call(page, 'POST', `/api/v1/orgs/${orgId}/projects/${projectId}/feedback`, body);

type FeedbackItem = { id: string; status: string; assigneeId: string | null; labelIds: string[]; noteCount: number; version: number };
const getFeedback = async (id: string) => (await call(page, 'GET', `/api/v1/orgs/${orgId}/feedback/${id}`)).body as FeedbackItem;

/** A labelled value of one of the feedback page's facts lists. */
const fact = (on: Page, list: 'feedback-details' | 'reporter-details', label: string) =>
  on.getByTestId(list).locator('.fact').filter({ has: on.getByText(label, { exact: true }) }).locator('dd');

const items = (on: Page) => on.getByTestId('feedback-item');
/** The inbox's filter form (the project's other tabs, hidden, have fields with the same names). */
const filters = (on: Page) => on.getByRole('form', { name: 'Filter feedback' });

/** Nothing that the markup above would have run or injected. */
async function expectNoInjection(on: Page): Promise<void> {
  expect(
    await on.evaluate(() => ({
      xss: (window as unknown as { __xss?: unknown }).__xss,
      injected: document.querySelectorAll('main img[src="x"], main script, main b, [onerror]').length,
    })),
  ).toEqual({ xss: undefined, injected: 0 });
}

/** Desktop, then a 390 px phone: a screenshot of each, nothing wider than the screen, and no axe violation at either width. */
async function checkWidths(on: Page, name: string): Promise<void> {
  await screenshot(on, `${name}-desktop`);
  expect(await axeViolations(on)).toEqual([]);
  await on.setViewportSize({ width: 390, height: 844 });
  try {
    await screenshot(on, `${name}-phone`);
    expect(await overflowingElements(on)).toEqual([]);
    expect(await on.evaluate(() => document.documentElement.scrollWidth)).toBe(390);
    expect(await axeViolations(on)).toEqual([]);
  } finally {
    await on.setViewportSize({ width: 1280, height: 800 });
  }
}

describe.skipIf(skipReason !== '')('triage in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    const setupUrl = await story.startParley();
    await story.launchBrowser();
    await story.watchSecurityPolicyEvents();
    page = await story.context!.newPage();
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/reporter')) reporterReads.push(new URL(request.url()).pathname);
    });
    await page.goto(setupUrl);
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(), CLEAN_UP_TIMEOUT_MS);

  step('sets up the owner and a project whose inbox is empty', async () => {
    await setUpOwner(page, OWNER);
    ({ orgId, projectId } = await createProject(page, PROJECT, 'https://shop.example'));
    expect(projectId).not.toBe('');
    expect(await page.getByTestId('inbox-empty').textContent()).toContain('No feedback yet');
    ownerId = ((await call(page, 'GET', '/api/v1/me')).body as { user: { id: string } }).user.id;
  });

  step('refuses server submissions until the Protection tab allows them, then takes them', async () => {
    const refused = await sendFeedback({ message: 'Too early' });
    expect(refused.status).toBe(403);
    expect((refused.body as { code: string }).code).toBe('server_submissions_off');

    await page.getByTestId('tab-protection').click();
    const toggle = page.getByRole('checkbox', { name: 'Accept feedback sent by your own servers' });
    expect(await toggle.isChecked()).toBe(false);
    const hint = page.locator(`#${await toggle.getAttribute('aria-describedby')}`);
    expect(await hint.textContent()).toMatch(/REST API, with an API key that holds feedback_create.*403 server_submissions_off.*docs\/api\.md/);
    expect(await hint.getByRole('link', { name: 'the API reference' }).getAttribute('href')).toBe('/api-reference#post-api-v1-orgs-orgId-projects-projectId-feedback');
    await toggle.check();
    await page.getByRole('button', { name: 'Save protection settings' }).click();
    await page.getByTestId('protection-save-status').filter({ hasText: 'Saved' }).waitFor();

    // Two feedback types, so the inbox can filter by them (set through the API: the widget form is another story's).
    const project = await call(page, 'GET', `/api/v1/orgs/${orgId}/projects/${projectId}`);
    const settings = (project.body as { settings: Record<string, unknown> }).settings;
    const typed = await call(page, 'PATCH', `/api/v1/orgs/${orgId}/projects/${projectId}`, { settings: { ...settings, types: [{ id: 'bug', label: '' }, { id: 'idea', label: '' }] } }, { 'If-Match': project.etag! });
    expect(typed.status).toBe(200);

    for (let n = 1; n <= FILLERS; n += 1) {
      expect((await sendFeedback({ message: `Older remark number ${n}`, rating: 4 })).status).toBe(201);
    }
    const sent = [
      ['idea', { message: IDEA, rating: 5, type: 'idea' }],
      ['total', { message: TOTAL_WRONG, rating: 3, type: 'bug' }],
      ['xss', { message: XSS_MESSAGE, rating: 2, type: 'bug', email: REPORTER_EMAIL, metadata: { plan: 'pro' }, identity: { id: 'acct-42', name: 'Jane Reporter' } }],
    ] as const;
    for (const [name, body] of sent) {
      const answer = await sendFeedback(body);
      expect(answer.status).toBe(201);
      ids[name] = (answer.body as { id: string }).id;
    }
  });

  step('lists the newest 25 with their status, rating, type and markup as text, and loads the rest', async () => {
    // Loaded afresh: the feedback types were set behind the page's back.
    await page.goto(`${story.origin}/orgs/${orgId}/projects/${projectId}`);
    await expect.poll(() => items(page).count()).toBe(25);
    const newest = items(page).nth(0);
    expect(await newest.textContent()).toContain(XSS_MESSAGE);
    expect(await newest.getByTestId('status-badge').textContent()).toBe('New');
    expect(await newest.getByRole('img', { name: 'Rating 2 of 5' }).count()).toBe(1);
    expect(await newest.locator('.tag').textContent()).toBe('Bug');
    // The list carries no reporter data.
    expect(await page.getByText(REPORTER_EMAIL).count()).toBe(0);
    await expectNoInjection(page);

    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => items(page).count()).toBe(FILLERS + 3);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    await checkWidths(page, '1-inbox');
  });

  step('filters by text and status, keeps the filters in the address across a reload, and says when nothing matches', async () => {
    const search = filters(page).getByRole('searchbox', { name: 'Search messages' });
    expect(await page.locator(`#${(await search.getAttribute('aria-describedby'))!}`).textContent()).toContain('the last word also matches the start of a longer one');
    // The start of a word finds it (prefix), and typing waits for a pause before asking.
    await search.fill('check');
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('check');
    await expect.poll(() => items(page).count()).toBe(2);
    expect(await items(page).allTextContents()).toEqual([expect.stringContaining(XSS_MESSAGE), expect.stringContaining(TOTAL_WRONG)]);

    await page.getByRole('group', { name: 'Filter by status' }).getByRole('button', { name: 'New', exact: true }).click();
    await filters(page).getByLabel('Type').selectOption('bug');
    await expect.poll(() => new URL(page.url()).search).toBe('?q=check&status=new&type=bug');
    await page.reload();
    await expect.poll(() => items(page).count()).toBe(2);
    expect(await filters(page).getByRole('searchbox', { name: 'Search messages' }).inputValue()).toBe('check');
    expect(await page.getByRole('button', { name: 'New', exact: true }).getAttribute('aria-pressed')).toBe('true');
    expect(await filters(page).getByLabel('Type').inputValue()).toBe('bug');

    await filters(page).getByLabel('Rating').selectOption({ label: '4–5 (high)' });
    await page.getByTestId('inbox-empty').getByText('No feedback matches these filters.').waitFor();
    await screenshot(page, '2-inbox-nothing-matches');
    await filters(page).getByLabel('Rating').selectOption({ label: '2 of 5' });
    await expect.poll(() => items(page).count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('rating')).toBe('2');
  });

  step('a member joins, and the owner opens the feedback: the message is text, the reporter is not read yet', async () => {
    const filtered = page.url();
    member = await story.joinByInvite(page, orgId, MEMBER, 'member');
    await page.goto(filtered);
    await items(page).nth(0).click();
    const message = page.getByTestId('feedback-message');
    await message.waitFor();
    expect(await message.textContent()).toBe(XSS_MESSAGE);
    expect(await message.locator('*').count()).toBe(0);
    expect(await fact(page, 'feedback-details', 'Type').textContent()).toBe('Bug');
    expect(await fact(page, 'feedback-details', 'Identity').textContent()).toBe('Identified, signed by your site');
    expect(await page.getByText(REPORTER_EMAIL).count()).toBe(0);
    expect(reporterReads).toEqual([]);
    await expectNoInjection(page);
  });

  step('assigns it to the member, labels it with a new label, adds a note and changes its status', async () => {
    const assignee = page.getByLabel('Assignee');
    expect(await assignee.locator('option').allTextContents()).toEqual(['Unassigned', `${OWNER.name} (you)`, MEMBER.name]);
    await assignee.selectOption({ label: MEMBER.name });
    await expect.poll(async () => (await getFeedback(ids.xss)).assigneeId).not.toBeNull();

    await page.getByRole('button', { name: 'New label…' }).click();
    await page.getByLabel('New label’s name').fill(XSS_LABEL);
    await screenshot(page, '3-new-label');
    await page.getByRole('button', { name: 'Create and add' }).click();
    const chips = page.getByTestId('feedback-labels').getByTestId('label-chip');
    await expect.poll(() => chips.count()).toBe(1);
    expect(await chips.textContent()).toBe(`${XSS_LABEL}×`);
    expect(await chips.getByRole('button', { name: `Remove label ${XSS_LABEL}` }).count()).toBe(1);

    await page.getByLabel('Add a note').fill(XSS_NOTE);
    await page.getByRole('button', { name: 'Add note' }).click();
    const note = page.getByTestId('note');
    await note.waitFor();
    expect(await note.locator('.note-body').textContent()).toBe(XSS_NOTE);
    expect(await note.locator('.note-head').textContent()).toContain(OWNER.name);
    expect(await note.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await page.getByLabel('Add a note').inputValue()).toBe('');

    await page.getByLabel('Status').selectOption('in_progress');
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await expect.poll(async () => (await getFeedback(ids.xss)).status).toBe('in_progress');
    const stored = await getFeedback(ids.xss);
    expect({ labels: stored.labelIds.length, notes: stored.noteCount, assigned: stored.assigneeId !== ownerId }).toEqual({ labels: 1, notes: 1, assigned: true });
    await expectNoInjection(page);
  });

  step('a change the member made meanwhile refuses the owner’s next one (412), and the page shows her version', async () => {
    await member.goto(page.url());
    await member.getByTestId('feedback-message').waitFor();
    // A member may triage but not delete.
    expect(await member.getByRole('button', { name: 'Delete feedback' }).count()).toBe(0);
    await member.getByLabel('Status').selectOption('done');
    await member.getByRole('status').filter({ hasText: 'Saved' }).waitFor();

    // The owner's page still holds the version before hers.
    expect(await page.getByLabel('Status').inputValue()).toBe('in_progress');
    await page.getByLabel('Assignee').selectOption({ label: `${OWNER.name} (you)` });
    const conflict = page.getByTestId('triage-conflict');
    await conflict.waitFor();
    expect(await conflict.textContent()).toContain('Someone else changed this feedback while you had it open, so your change was not saved.');
    await expect.poll(() => page.getByLabel('Status').inputValue()).toBe('done');
    expect(await page.getByLabel('Assignee').inputValue()).not.toBe(ownerId);
    const stored = await getFeedback(ids.xss);
    expect(stored.status).toBe('done');
    expect(stored.assigneeId).not.toBe(ownerId);
    await screenshot(page, '4-conflict');

    // Made again on her version, it goes through.
    await page.getByLabel('Assignee').selectOption({ label: `${OWNER.name} (you)` });
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    expect(await page.getByTestId('triage-conflict').count()).toBe(0);
    await expect.poll(async () => (await getFeedback(ids.xss)).assigneeId).toBe(ownerId);
    expect((await getFeedback(ids.xss)).status).toBe('done');
  });

  step('shows the reporter’s details only when asked, and the audit log records that view', async () => {
    const audit = async () =>
      ((await call(page, 'GET', `/api/v1/orgs/${orgId}/audit?action=feedback.reporter_viewed`)).body as {
        items: { actor: { type: string; id: string | null }; target: { type: string | null; id: string | null } | null }[];
      }).items;
    expect(await audit()).toEqual([]);
    const section = page.getByTestId('reporter-section');
    expect(await section.textContent()).toContain('Each view is recorded in the organization’s audit log');

    await section.getByRole('button', { name: 'Show reporter details' }).click();
    await page.getByTestId('reporter-details').waitFor();
    expect(await fact(page, 'reporter-details', 'E-mail').textContent()).toBe(REPORTER_EMAIL);
    expect(await section.getByTestId('metadata').textContent()).toContain('pro');
    expect(await section.getByTestId('identity-verified').count()).toBe(1);
    expect(reporterReads).toEqual([`/api/v1/orgs/${orgId}/feedback/${ids.xss}/reporter`]);
    const viewed = await audit();
    expect(viewed).toHaveLength(1);
    expect(viewed[0]).toMatchObject({ actor: { type: 'user', id: ownerId }, target: { type: 'feedback', id: ids.xss } });
    await checkWidths(page, '5-feedback');
    await expectNoInjection(page);
  });

  step('the inbox row shows the label, the assignee and the note; label and assignee filters find it', async () => {
    await page.getByRole('link', { name: '← Inbox' }).click();
    await expect.poll(() => items(page).count()).toBe(25);
    const row = items(page).filter({ hasText: XSS_MESSAGE });
    expect(await row.getByTestId('label-chip').textContent()).toBe(XSS_LABEL);
    expect(await row.getByTestId('feedback-assignee').textContent()).toBe(`Assigned to ${OWNER.name}`);
    expect(await row.getByTestId('feedback-notes').textContent()).toBe('1 note');
    expect(await row.getByTestId('status-badge').textContent()).toBe('Done');
    await checkWidths(page, '6-inbox-triaged');

    await filters(page).getByLabel('Label').selectOption({ label: XSS_LABEL });
    await expect.poll(() => items(page).count()).toBe(1);
    await filters(page).getByLabel('Assignee').selectOption({ label: MEMBER.name });
    await page.getByTestId('inbox-empty').getByText('No feedback matches these filters.').waitFor();
    await filters(page).getByLabel('Assignee').selectOption({ label: 'Me' });
    await expect.poll(() => items(page).count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('assignee')).toBe('me');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect.poll(() => items(page).count()).toBe(25);
    expect(new URL(page.url()).search).toBe('');
    expect(await filters(page).getByRole('searchbox', { name: 'Search messages' }).inputValue()).toBe('');
    await expectNoInjection(page);
  });

  step('deletes a feedback after asking, and goes back to the inbox', async () => {
    await items(page).filter({ hasText: IDEA }).click();
    await page.getByTestId('feedback-message').waitFor();
    await page.getByRole('button', { name: 'Delete feedback' }).click();
    expect(await page.getByRole('group', { name: 'Delete feedback' }).textContent()).toContain('It cannot be undone.');
    await page.getByRole('group', { name: 'Delete feedback' }).getByRole('button', { name: 'Delete feedback' }).click();
    await page.getByTestId('feedback-list').waitFor();
    expect(new URL(page.url()).pathname).toBe(`/orgs/${orgId}/projects/${projectId}`);
    await expect.poll(() => items(page).filter({ hasText: IDEA }).count()).toBe(0);
    expect((await call(page, 'GET', `/api/v1/orgs/${orgId}/feedback/${ids.idea}`)).status).toBe(404);
  });

  step('deletes the project once its name is typed, and lands on the projects list', async () => {
    // The member has no Danger zone.
    await member.goto(`${story.origin}/orgs/${orgId}/projects/${projectId}`);
    await member.getByTestId('project-name').waitFor();
    expect(await member.getByTestId('tab-danger').count()).toBe(0);

    await page.getByTestId('tab-danger').click();
    const remove = page.getByRole('button', { name: 'Delete this project' });
    expect(await remove.isDisabled()).toBe(true);
    const confirm = page.getByLabel(`Type the project’s name, “${PROJECT}”, to confirm`);
    await confirm.fill('Acme');
    expect(await remove.isDisabled()).toBe(true);
    await confirm.fill(PROJECT);
    await screenshot(page, '7-danger-zone');
    expect(await axeViolations(page)).toEqual([]);
    await remove.click();
    // The server wants a recent factor; the owner signed in minutes ago, but a slow run may pass the window.
    const reauth = page.getByRole('dialog', { name: 'Confirm it’s you' });
    await Promise.race([page.waitForURL(`${story.origin}/?org=${orgId}`), reauth.waitFor()]);
    if (await reauth.isVisible()) {
      await reauth.getByLabel('Password').fill(OWNER.password);
      await reauth.getByRole('button', { name: 'Continue' }).click();
    }
    await page.getByTestId('no-projects').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    expect((await call(page, 'GET', `/api/v1/orgs/${orgId}/projects/${projectId}`)).status).toBe(404);
    expect((await call(page, 'GET', `/api/v1/orgs/${orgId}/feedback/${ids.total}`)).status).toBe(404);
  });

  it('ran no injected script, raised no CSP violation or script error, and the server logged no error', async () => {
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(story.serverErrors()).toEqual([]);
  });
});
