// The screenshot step of the feedback dialog, loaded with import() only when
// the visitor asks for a screenshot: capture the visible page (masked), let the
// visitor mark it up, hand back an image for upload.
import { captureDom } from './capture-dom.js';
import { captureDisplay } from './capture-native.js';
import { openEditor, showFailure } from './editor.js';
import { exportImage } from './export-image.js';
import { SCREENSHOT_STRINGS, type ScreenshotStrings } from './strings.js';
import css from './styles.css';

export { SCREENSHOT_STRINGS, type ScreenshotStringKey } from './strings.js';

export type CaptureOptions = {
  mode: 'dom' | 'native';
  /** The widget's own host element: left out of the capture. */
  exclude: Element;
  /**
   * A container inside the widget's shadow root where the annotation editor renders (full-screen overlay is fine).
   * It must be rendered (not display: none); the editor is a modal <dialog>, so it sits above the feedback dialog.
   */
  container: HTMLElement;
  /** Translated UI strings for the editor, by key; missing keys fall back to English. */
  strings: Record<string, string>;
  theme: 'light' | 'dark';
};

/** While the browser captures the tab, the whole widget (dialog and backdrop included) is invisible. */
const HIDE_WIDGET = ':host,*,::backdrop{visibility:hidden!important;opacity:0!important;transition:none!important;animation:none!important}';

let isRunning = false;

function pickStrings(strings: Record<string, string>): ScreenshotStrings {
  const picked = { ...SCREENSHOT_STRINGS } as ScreenshotStrings;
  for (const key of Object.keys(picked) as (keyof ScreenshotStrings)[]) {
    const value = strings[key];
    if (typeof value === 'string' && value.trim()) picked[key] = value;
  }
  return picked;
}

/**
 * Captures the visible page, lets the visitor draw highlight/black-out boxes,
 * and resolves to an image Blob (PNG; WebP only when a PNG would exceed the
 * upload limit), or null if cancelled or the capture failed (the visitor is
 * told). Never rejects. Only call it from the visitor's click.
 */
export async function captureScreenshot(options: CaptureOptions): Promise<Blob | null> {
  const root = options.container.getRootNode();
  // One at a time; and the editor must live in the widget's shadow root, never in the page's document.
  if (isRunning || !(root instanceof ShadowRoot)) return null;
  isRunning = true;
  const editor = {
    container: options.container,
    strings: pickStrings(options.strings),
    theme: options.theme === 'dark' ? ('dark' as const) : ('light' as const),
    // Read now: hiding the widget for a native capture takes focus away.
    returnFocus: root.activeElement ?? document.activeElement,
  };
  const sheet = new CSSStyleSheet();
  try {
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    let shot: HTMLCanvasElement | null = null;
    try {
      shot =
        options.mode === 'native'
          ? await captureDisplay(options.exclude, () => {
              const index = sheet.insertRule(HIDE_WIDGET, sheet.cssRules.length);
              return () => sheet.deleteRule(index);
            })
          : await captureDom(options.exclude, options.container);
    } catch {
      // Refused, unsupported or unrenderable: the visitor gets one plain message below.
    }
    if (!shot) {
      await showFailure(editor);
      return null;
    }
    return await openEditor(shot, editor, exportImage);
  } catch {
    return null;
  } finally {
    root.adoptedStyleSheets = root.adoptedStyleSheets.filter((adopted) => adopted !== sheet);
    isRunning = false;
  }
}
