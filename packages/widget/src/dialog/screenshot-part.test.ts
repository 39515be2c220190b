// "Add a screenshot" with the real screenshot chunk: nothing loads or is
// captured before the click; the marked-up image is previewed, uploaded
// first and linked to the feedback by its id; all under the strict CSP.
import { describe, expect, it } from 'vitest';
import { cspViolations, feedbackDialog, skipReason } from '../../test/browser.js';
import { storedBodies } from '../../test/fake-parley.js';
import { useWidgetPage } from '../../test/widget-page.js';

const widget = useWidgetPage();
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe.skipIf(skipReason !== '')('the screenshot step', () => {
  it('is offered only when the project enables it', async () => {
    const { page } = await widget.visit();
    await feedbackDialog(page).launcher.click();
    await feedbackDialog(page).message.waitFor();
    expect(await page.getByRole('button', { name: 'Add a screenshot' }).count()).toBe(0);
  });

  it('captures on click, previews, uploads first and sends the screenshot id; Remove takes it away', async () => {
    widget.fake.settings.screenshot = { enabled: true, mode: 'dom' };
    const watched = await widget.visit();
    const { page } = watched;
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    const { launcher, dialog, message, send, sent } = feedbackDialog(page);
    await launcher.click();
    await message.fill('The total is wrong.');
    const screenshotFile = widget.fake.manifest.files.screenshot!;
    expect(requested.some((url) => url.endsWith(screenshotFile))).toBe(false);

    const add = dialog.getByRole('button', { name: 'Add a screenshot' });
    await add.click();
    // The editor takes the screen; the feedback dialog steps aside meanwhile.
    await page.getByRole('dialog', { name: 'Mark up the screenshot' }).getByRole('button', { name: 'Done' }).click();
    const preview = dialog.getByRole('img', { name: 'Screenshot to be sent' });
    await preview.waitFor();
    expect(await preview.getAttribute('src')).toMatch(/^blob:/);
    expect(await page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.activeElement?.textContent)).toBe('Remove');

    await dialog.getByRole('button', { name: 'Remove' }).click();
    expect(await preview.count()).toBe(0);
    await add.click();
    await page.getByRole('dialog', { name: 'Mark up the screenshot' }).getByRole('button', { name: 'Done' }).click();
    await preview.waitFor();

    await send.click();
    await sent.waitFor();
    expect(widget.fake.screenshots).toHaveLength(1);
    const [upload] = widget.fake.screenshots;
    expect(upload!.headers['content-type']).toBe('image/png');
    expect(upload!.body.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(storedBodies(widget.fake)[0]).toMatchObject({ message: 'The total is wrong.', screenshotId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(await cspViolations(watched)).toEqual([]);
  });

  it('sends without a screenshot when the visitor cancels the editor', async () => {
    widget.fake.settings.screenshot = { enabled: true, mode: 'dom' };
    const { page } = await widget.visit();
    const { launcher, dialog, message, send, sent } = feedbackDialog(page);
    await launcher.click();
    await message.fill('Never mind the picture.');
    await dialog.getByRole('button', { name: 'Add a screenshot' }).click();
    await page.getByRole('dialog', { name: 'Mark up the screenshot' }).getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.evaluate(() => document.querySelector('parley-widget')!.shadowRoot!.activeElement?.textContent)).toBe('Add a screenshot');
    await send.click();
    await sent.waitFor();
    expect(widget.fake.screenshots).toHaveLength(0);
    expect(storedBodies(widget.fake)[0]).not.toHaveProperty('screenshotId');
  });
});
