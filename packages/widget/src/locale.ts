import type { WidgetSettings } from './settings.js';

export const LOCALES = ['en', 'de', 'fr', 'es'] as const;
export type Locale = (typeof LOCALES)[number];

const isLocale = (tag: string | undefined): tag is Locale => LOCALES.includes(tag as Locale);

/** The project's fixed language, or (auto) the page's `<html lang>`, then the browser's languages, then English. */
export function pickLocale(setting: WidgetSettings['locale']): Locale {
  if (setting !== 'auto') return setting;
  for (const tag of [document.documentElement.lang, ...navigator.languages]) {
    const primary = tag?.split('-')[0]?.toLowerCase();
    if (isLocale(primary)) return primary;
  }
  return 'en';
}
