// Accounts in real Chromium against the real `parley serve` (embedded
// PostgreSQL, built dashboard): the owner turns on an authenticator app and
// logs in with its code, adds a passkey (Chromium's virtual authenticator)
// and logs in with that, makes two-factor authentication a rule of the
// organization, exports its login history, then invites a colleague from the
// members page, who joins through the link and must set up a second factor.
import { readFile } from 'node:fs/promises';
import { generate } from 'otplib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrowserStory, CLEAN_UP_TIMEOUT_MS, SET_UP_TIMEOUT_MS, browserSkipReason, setUpOwner } from './support.js';

const skipReason = browserSkipReason('accounts story');

const OWNER = { name: 'Ada Lovelace', email: 'ada@example.com', password: 'correct horse battery staple', organization: 'Acme Inc.' };
const COLLEAGUE = { name: 'Grace Hopper', email: 'grace@example.com', password: 'a ship in port is safe' };

const story = new BrowserStory({
  builtFiles: ['apps/server/dist/main.js', 'apps/dashboard/dist/index.html'],
  dataDirPrefix: 'parley-e2e-accounts-',
  screenshotDirPrefix: 'parley-e2e-accounts-screenshots-',
});
const { step, screenshot } = story;

// What the story hands from one step to the next.
let page: Page;
let totpSecret = '';
let orgId = '';
let inviteLink = '';

/** The authenticator app's code, `steps` 30-second periods from now (each step is accepted once). */
const totpCode = (steps = 0): Promise<string> => generate({ secret: totpSecret, epoch: Math.floor(Date.now() / 1000) + steps * 30 });

async function logOut(): Promise<void> {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
}

async function enterPassword(): Promise<void> {
  await page.getByLabel('E-mail').fill(OWNER.email);
  await page.getByLabel('Password').fill(OWNER.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
}

describe.skipIf(skipReason !== '')('accounts in Chromium, against the real server', () => {
  beforeAll(async () => {
    await story.prepare();
    const setupUrl = await story.startParley();
    page = await (await story.launchBrowser()).newPage();
    await page.goto(setupUrl);
  }, SET_UP_TIMEOUT_MS);

  afterAll(() => story.cleanUp(), CLEAN_UP_TIMEOUT_MS);

  step('sets up the owner account', async () => {
    await setUpOwner(page, OWNER);
  });

  step('turns on an authenticator app from the QR code page and shows the recovery codes once', async () => {
    await page.getByRole('link', { name: 'Account security' }).click();
    await page.getByRole('heading', { name: 'Account security' }).waitFor();
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();

    const setup = page.getByTestId('totp-setup');
    await setup.getByRole('img', { name: /QR code/ }).waitFor();
    // Drawn on a canvas in the page: something was painted.
    expect(await setup.locator('canvas').evaluate((canvas: HTMLCanvasElement) => canvas.width)).toBeGreaterThan(100);
    totpSecret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    expect(totpSecret).toMatch(/^[A-Z2-7]{16,}$/);
    await setup.getByLabel('Code from your authenticator app').fill(await totpCode());
    await screenshot(page, '1-totp-setup');
    await setup.getByRole('button', { name: 'Turn on' }).click();

    const codes = page.getByTestId('recovery-codes');
    await codes.waitFor();
    expect(await codes.getByRole('listitem').count()).toBe(10);
    await screenshot(page, '2-recovery-codes');
    await codes.getByRole('button', { name: 'I have saved them' }).click();
    await page.getByTestId('totp-enabled').waitFor();
    expect(await page.getByTestId('recovery-left').textContent()).toContain('10 unused codes left.');
  });

  step('logs in with the password, then a code from the app', async () => {
    await logOut();
    await enterPassword();
    await page.getByRole('radio', { name: 'Authenticator app' }).check();
    const code = page.getByLabel('Code from your authenticator app');
    // A wrong code is refused, and the field is ready for the next one.
    await code.fill((await totpCode()) === '000000' ? '111111' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('alert').waitFor();
    expect(await code.evaluate((input) => input === document.activeElement)).toBe(true);
    await screenshot(page, '3-login-wrong-code');
    // The code of the confirmation was spent; the next step's code is within the allowed drift.
    await code.fill(await totpCode(1));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
  });

  step("adds a passkey with Chromium's virtual authenticator", async () => {
    const cdp = await story.context!.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
    });

    await page.getByRole('link', { name: 'Account security' }).click();
    await page.getByLabel('Passkey name').fill('Virtual key');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    const passkeys = page.getByTestId('passkeys');
    await passkeys.getByText('Virtual key').waitFor();
    expect(await passkeys.textContent()).toContain('never used');
    // Not the first factor: no new recovery codes.
    expect(await page.getByTestId('recovery-codes').count()).toBe(0);
    await screenshot(page, '4-passkey-added');
  });

  step('logs in with the password, then the passkey', async () => {
    await logOut();
    await enterPassword();
    // The passkey is offered first.
    expect(await page.getByRole('radio', { name: 'Passkey' }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();

    await page.getByRole('link', { name: 'Login history' }).first().click();
    const history = page.getByTestId('login-history');
    await history.waitFor();
    const firstRow = history.locator('tbody tr').first();
    expect(await firstRow.textContent()).toContain('Passkey');
    expect(await firstRow.textContent()).toContain('Succeeded');
    await expect.poll(() => history.getByText('Failed').count()).toBeGreaterThan(0);
    await screenshot(page, '5-login-history');
  });

  step('requires two-factor authentication for the organization', async () => {
    await page.goto(`${story.origin}/`);
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Security' }).click();
    await page.getByRole('heading', { name: 'Sign-in policy' }).waitFor();
    [, orgId = ''] = /^\/orgs\/([^/]+)\/security$/.exec(new URL(page.url()).pathname) ?? [];
    expect(orgId).not.toBe('');
    await page.getByRole('checkbox', { name: 'Require two-factor authentication' }).check();
    await page.getByLabel('Idle timeout (minutes)').fill('20');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    await page.reload();
    expect(await page.getByRole('checkbox', { name: 'Require two-factor authentication' }).isChecked()).toBe(true);
    expect(await page.getByLabel('Idle timeout (minutes)').inputValue()).toBe('20');
  });

  step("exports the organization's login history as CSV with the list's filters", async () => {
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Login history' }).click();
    await page.getByTestId('login-history').waitFor();
    await page.getByLabel('Result').selectOption('failure');
    await expect.poll(() => page.getByTestId('login-history').locator('tbody tr').count()).toBe(1);
    expect(new URL(page.url()).search).toBe('?result=failure');
    const csvLink = page.getByRole('link', { name: 'Download CSV' });
    expect(await csvLink.getAttribute('href')).toBe(`/api/v1/orgs/${orgId}/logins.csv?result=failure`);
    const [download] = await Promise.all([page.waitForEvent('download'), csvLink.click()]);
    const csv = await readFile((await download.path())!, 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(2);
    expect(csv).toContain('failure');
    await screenshot(page, '6-org-logins');
  });

  step('invites a colleague from the members page and shows the link', async () => {
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Members' }).click();
    await page.getByTestId('members').waitFor();
    expect(await page.getByTestId('members').textContent()).toContain(OWNER.email);

    await page.getByLabel('E-mail').fill(COLLEAGUE.email);
    await page.getByLabel('Role', { exact: true }).selectOption('admin');
    await page.getByRole('button', { name: 'Send invitation' }).click();
    const link = page.getByTestId('invite-link');
    await link.waitFor();
    inviteLink = await link.inputValue();
    expect(inviteLink).toMatch(new RegExp(`^${story.origin}/invite#token=[A-Za-z0-9_-]+$`));
    const invites = page.getByTestId('invites');
    await invites.getByText(COLLEAGUE.email).waitFor();
    expect(await invites.textContent()).toContain('Admin');
    await screenshot(page, '7-members-invited');
  });

  step('the colleague opens the link, creates an account and lands in the organization', async () => {
    const context = await story.browser!.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-GB' });
    const guest = await context.newPage();
    await guest.goto(inviteLink);
    await guest.getByRole('heading', { name: `Join ${OWNER.organization}` }).waitFor();
    // The token left the address bar at once.
    expect(guest.url()).toBe(`${story.origin}/invite`);
    await guest.getByLabel('Your name').fill(COLLEAGUE.name);
    await guest.getByLabel('Password').fill(COLLEAGUE.password);
    await guest.getByRole('button', { name: 'Create account and join' }).click();

    // The organization requires two-factor authentication: nothing else opens until there is one.
    await guest.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    expect(new URL(guest.url()).pathname).toBe('/account/enroll');
    await guest.goto(`${story.origin}/`);
    await guest.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await screenshot(guest, '8-enroll');
    await guest.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await guest.getByTestId('totp-secret').textContent()) ?? '';
    await guest.getByLabel('Code from your authenticator app').fill(await generate({ secret }));
    await guest.getByRole('button', { name: 'Turn on' }).click();
    await guest.getByTestId('recovery-codes').waitFor();
    await guest.getByRole('button', { name: 'Continue' }).click();
    await guest.getByRole('heading', { name: 'Projects' }).waitFor();
    expect(await guest.getByTestId('user-email').textContent()).toBe(COLLEAGUE.email);
    await context.close();

    await page.reload();
    await page.getByTestId('members').getByText(COLLEAGUE.email).waitFor();
    expect(await page.getByTestId('invites').count()).toBe(0);
    await screenshot(page, '9-members-joined');
  });

  it('raised no CSP violation or script error, and the server logged no error', async () => {
    expect(story.cspReports).toEqual([]);
    expect(story.pageErrors).toEqual([]);
    expect(story.serverErrors()).toEqual([]);
  });
});
