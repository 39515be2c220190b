// The widget speaks the page's language: German, French and Spanish built in,
// picked from the project's setting, <html lang>, then the browser; every
// text can be replaced by the site owner.
import { describe, expect, it } from 'vitest';
import { callParley, skipReason } from '../test/browser.js';
import { storedBodies } from '../test/fake-parley.js';
import { hostPage, snippet } from '../test/host-site.js';
import { useWidgetPage } from '../test/widget-page.js';

const widget = useWidgetPage();

describe.skipIf(skipReason !== '')('languages', () => {
  it('speaks German on a page in German', async () => {
    widget.fake.settings.types = [{ id: 'bug', label: '' }];
    const { page } = await widget.visit({ html: hostPage({ lang: 'de-CH', body: snippet(widget.fake) }) });
    await page.getByRole('button', { name: 'Feedback' }).click();
    const dialog = page.getByRole('dialog', { name: 'Feedback senden' });
    await dialog.getByRole('group', { name: 'Worum geht es?' }).getByRole('radio', { name: 'Fehler' }).check();
    await dialog.getByRole('radio', { name: '5 von 5 Sternen' }).check();
    await dialog.getByRole('textbox', { name: 'Ihr Feedback' }).fill('Sehr gut.');
    await dialog.getByRole('textbox', { name: 'E-Mail (optional)' }).fill('kein@');
    await dialog.getByRole('button', { name: 'Senden' }).click();
    await dialog.getByText('Bitte geben Sie eine gültige E-Mail-Adresse ein.').waitFor();
    await dialog.getByRole('textbox', { name: 'E-Mail (optional)' }).fill('');
    await dialog.getByRole('button', { name: 'Senden' }).click();
    await dialog.getByText('Ihr Feedback wurde gesendet.', { exact: true }).waitFor();
    expect(storedBodies(widget.fake)[0]).toMatchObject({ message: 'Sehr gut.', type: 'bug', rating: 5 });
  });

  it("speaks French when the page has no language and the browser's first is French", async () => {
    const { page } = await widget.visit({ html: hostPage({ lang: '', body: snippet(widget.fake) }), context: { locale: 'fr-FR' } });
    await page.getByRole('button', { name: 'Votre avis' }).click();
    const dialog = page.getByRole('dialog', { name: 'Envoyer un avis' });
    await dialog.getByRole('textbox', { name: 'Votre avis' }).waitFor();
    expect(await dialog.getByRole('button', { name: 'Envoyer' }).count()).toBe(1);
  });

  it("speaks Spanish when the project says so, whatever the page's language", async () => {
    widget.fake.settings.locale = 'es';
    widget.fake.settings.rating = 'nps';
    const { page } = await widget.visit();
    await page.getByRole('button', { name: 'Opinión' }).click();
    const dialog = page.getByRole('dialog', { name: 'Enviar comentarios' });
    await dialog.getByRole('group', { name: '¿Qué probabilidad hay de que nos recomiendes a un amigo o colega?' }).getByRole('radio', { name: '10 – Muy probable' }).waitFor();
  });

  it("uses the site owner's texts: the page's texts option over the project's", async () => {
    Object.assign(widget.fake.settings, { texts: { title: 'Tell the shop', send: 'Submit' }, launcher: { ...widget.fake.settings.launcher, label: 'Ideas?' } });
    const { page } = await widget.visit({ html: hostPage({ body: snippet(widget.fake, { 'data-launcher': 'true' }) }) });
    await page.getByRole('button', { name: 'Ideas?' }).click();
    await page.getByRole('dialog', { name: 'Tell the shop' }).getByRole('button', { name: 'Submit' }).waitFor();
    await callParley(page, 'init', { project: 'pk_test_widget', texts: { title: 'Talk to us', launcher: 'Talk' } });
    await page.getByRole('button', { name: 'Talk' }).click();
    await page.getByRole('dialog', { name: 'Talk to us' }).getByRole('button', { name: 'Submit' }).waitFor();
  });
});
