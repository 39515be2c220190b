import { h, icon } from './dom.js';
import type { Locale } from './locale.js';
import type { WidgetSettings } from './settings.js';

// The one text the loader itself shows; the dialog's texts load with it.
const LABELS: Record<Locale, string> = { en: 'Feedback', de: 'Feedback', fr: 'Votre avis', es: 'Opinión' };

const SPEECH_BUBBLE = 'M5 4.5h14a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-8l-5 4v-4H5a2 2 0 0 1-2-2v-9a2 2 0 0 1 2-2z';

/** `label`: the site owner's text, or a locale for the built-in one. */
export function createLauncher(position: WidgetSettings['launcher']['position'], label: string, onClick: () => void): HTMLButtonElement {
  const button = h('button', { type: 'button', class: `launcher ${position}`, 'aria-haspopup': 'dialog' }, [icon(SPEECH_BUBBLE), LABELS[label as Locale] ?? label]);
  button.addEventListener('click', onClick);
  return button;
}
