import { h, icon } from '../dom.js';
import type { Runtime } from '../runtime.js';
import type { FormPart } from './form-part.js';
import { CAMERA } from './icons.js';
import { screenshotStrings, type Translate } from './messages.js';

export type ScreenshotPart = FormPart & { blob(): Blob | null };

/** How the part gets the dialog out of the way while the visitor marks up the page. */
export type DialogControl = { hide(): void; show(): void; alert(text: string): void };

/**
 * "Add a screenshot": nothing is captured before this click. The capture and
 * editor code is a separate chunk, loaded on that click.
 */
export function screenshotPart(runtime: Runtime, t: Translate, dialog: DialogControl): ScreenshotPart | null {
  const { settings, host } = runtime;
  if (!settings.screenshot.enabled) return null;
  let shot: Blob | null = null;
  let previewUrl = '';

  const add = h('button', { type: 'button', class: 'secondary add-shot' }, [icon(...CAMERA), t('screenshot.add')]);
  const image = h('img', { alt: t('screenshot.preview') });
  const remove = h('button', { type: 'button', class: 'link' }, [t('screenshot.remove')]);
  const preview = h('div', { class: 'shot', hidden: true }, [image, remove]);

  const show = (blob: Blob | null) => {
    URL.revokeObjectURL(previewUrl);
    shot = blob;
    // A blob: URL, not a data: URL: the host's CSP needs `img-src blob:` (docs/widget.md).
    previewUrl = blob ? URL.createObjectURL(blob) : '';
    if (blob) image.src = previewUrl;
    else image.removeAttribute('src');
    preview.hidden = !blob;
    add.hidden = Boolean(blob);
  };

  const fail = () => {
    runtime.report('screenshot_failed', 'The screenshot could not be taken.');
    dialog.alert(t('screenshot.failed'));
  };

  add.addEventListener('click', async () => {
    dialog.alert('');
    let capture;
    try {
      ({ captureScreenshot: capture } = await runtime.loadScreenshot());
    } catch {
      fail();
      return;
    }
    const container = h('div', { class: 'capture' });
    host.root.append(container);
    dialog.hide();
    try {
      const theme = settings.theme === 'auto' ? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light') : settings.theme;
      const blob = await capture({ mode: settings.screenshot.mode, exclude: host.element, container, strings: screenshotStrings(runtime), theme });
      if (blob) show(blob);
    } catch {
      fail();
    } finally {
      container.remove();
      dialog.show();
      (shot ? remove : add).focus();
    }
  });
  remove.addEventListener('click', () => {
    show(null);
    add.focus();
  });

  return { element: h('div', { class: 'field' }, [add, preview]), blob: () => shot, clear: () => show(null) };
}
