import { DEFAULT_WIDGET_SETTINGS, type CustomField, type WidgetSettings } from '../api/types';

// The widget settings editor works on a draft: numbers, URLs and lists are
// edited as the text a person types, and list rows carry a stable key. The
// draft becomes a WidgetSettings object only when it is valid. The limits
// mirror apps/server/src/projects/widget-settings.ts, so most mistakes are
// named here, next to the field; the server still checks everything.

export const MAX_TYPES = 8;
export const MAX_CUSTOM_FIELDS = 10;
export const MAX_OPTIONS = 20;
export const MAX_URL_PATTERNS = 20;
export const MAX_TEXTS = 60;

/** Built-in type ids: the widget translates their label when it is left empty. */
export const BUILT_IN_TYPES = [
  { id: 'bug', label: 'Bug' },
  { id: 'idea', label: 'Idea' },
  { id: 'praise', label: 'Praise' },
  { id: 'other', label: 'Other' },
] as const;

/** How the dashboard names a feedback type: the project's label, a built-in's name, else its id. */
export function feedbackTypeLabel(types: WidgetSettings['types'], id: string): string {
  const label = types.find((type) => type.id === id)?.label ?? '';
  return label !== '' ? label : (BUILT_IN_TYPES.find((type) => type.id === id)?.label ?? id);
}

const SLUG = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const COLOR = /^#[0-9a-fA-F]{6}$/;
const HTTP_URL = /^https?:\/\/\S+$/;
const TEXT_KEY = /^[a-zA-Z][a-zA-Z0-9_.]{0,63}$/;

export type TypeDraft = { key: number; id: string; label: string };

export type CustomFieldDraft = {
  key: number;
  id: string;
  label: string;
  type: CustomField['type'];
  /** One choice per line. */
  options: string;
  required: boolean;
};

export type SettingsDraft = Omit<WidgetSettings, 'types' | 'customFields' | 'consent' | 'display' | 'texts'> & {
  types: TypeDraft[];
  customFields: CustomFieldDraft[];
  consent: { required: boolean; privacyUrl: string };
  display: {
    /** One pattern per line. */
    urlPatterns: string;
    /** Empty: off. */
    autoOpenSeconds: string;
    snoozeDays: string;
    maxShows: string;
  };
  /** One `key = text` per line. */
  texts: string;
};

let nextKey = 1;
/** A key that tells list rows apart while they are edited (never sent). */
export const rowKey = () => nextKey++;

/**
 * The server's settings, each section completed from the defaults: the server
 * always sends the full object, but a missing section must not crash the editor.
 */
export function withDefaults(settings: Partial<WidgetSettings> | undefined): WidgetSettings {
  const s = settings ?? {};
  const d = DEFAULT_WIDGET_SETTINGS;
  return {
    ...d,
    ...s,
    launcher: { ...d.launcher, ...s.launcher },
    consent: { ...d.consent, ...s.consent },
    screenshot: { ...d.screenshot, ...s.screenshot },
    context: { ...d.context, ...s.context },
    display: { ...d.display, ...s.display },
    identity: { ...d.identity, ...s.identity },
  };
}

export function toDraft(settings: WidgetSettings): SettingsDraft {
  return {
    ...settings,
    launcher: { ...settings.launcher },
    types: settings.types.map((t) => ({ key: rowKey(), ...t })),
    customFields: settings.customFields.map((f) => ({ key: rowKey(), ...f, options: f.options.join('\n') })),
    consent: { required: settings.consent.required, privacyUrl: settings.consent.privacyUrl ?? '' },
    display: {
      urlPatterns: settings.display.urlPatterns.join('\n'),
      autoOpenSeconds: numberText(settings.display.autoOpenSeconds),
      snoozeDays: numberText(settings.display.snoozeDays),
      maxShows: numberText(settings.display.maxShows),
    },
    texts: Object.entries(settings.texts)
      .map(([key, text]) => `${key} = ${text}`)
      .join('\n'),
  };
}

export type DraftResult = { ok: true; settings: WidgetSettings } | { ok: false; problems: string[] };

/** The settings the draft stands for, or every problem that stops it being saved. */
export function fromDraft(draft: SettingsDraft): DraftResult {
  const problems: string[] = [];
  const check = (isValid: boolean, problem: string) => {
    if (!isValid) problems.push(problem);
  };

  const { launcher } = draft;
  check(launcher.label.trim().length <= 40, 'Launcher label: at most 40 characters.');
  check(COLOR.test(launcher.color), 'Button colour: a hex colour such as #2563eb.');
  check(COLOR.test(launcher.textColor), 'Text colour: a hex colour such as #ffffff.');

  const types = draft.types.map((t) => ({ id: t.id.trim(), label: t.label.trim() }));
  check(types.length <= MAX_TYPES, `Feedback types: at most ${MAX_TYPES}.`);
  types.forEach((t, i) => {
    check(SLUG.test(t.id), `Feedback type ${i + 1}: the id must be 1–32 lower-case letters, digits, “-” or “_”.`);
    check(t.label.length <= 40, `Feedback type ${i + 1}: the label is longer than 40 characters.`);
  });
  checkUnique(types.map((t) => t.id), 'Feedback types', problems);

  const customFields: CustomField[] = draft.customFields.map((f) => ({
    id: f.id.trim(),
    label: f.label.trim(),
    type: f.type,
    options: f.type === 'select' ? lines(f.options) : [],
    required: f.required,
  }));
  check(customFields.length <= MAX_CUSTOM_FIELDS, `Custom fields: at most ${MAX_CUSTOM_FIELDS}.`);
  customFields.forEach((f, i) => {
    const name = `Custom field ${i + 1}`;
    check(SLUG.test(f.id), `${name}: the id must be 1–32 lower-case letters, digits, “-” or “_”.`);
    check(f.label !== '' && f.label.length <= 80, `${name}: a label of 1–80 characters is needed.`);
    if (f.type === 'select') {
      check(f.options.length > 0, `${name}: a choice list needs at least one option.`);
      check(f.options.length <= MAX_OPTIONS, `${name}: at most ${MAX_OPTIONS} options.`);
      check(f.options.every((o) => o.length <= 80), `${name}: each option may have at most 80 characters.`);
      checkUnique(f.options, `${name} options`, problems);
    }
  });
  checkUnique(customFields.map((f) => f.id), 'Custom fields', problems);

  const privacyUrl = draft.consent.privacyUrl.trim();
  check(
    privacyUrl === '' || (HTTP_URL.test(privacyUrl) && privacyUrl.length <= 2048),
    'Privacy policy URL: a full http:// or https:// address.',
  );

  const urlPatterns = lines(draft.display.urlPatterns);
  check(urlPatterns.length <= MAX_URL_PATTERNS, `Show on pages: at most ${MAX_URL_PATTERNS} patterns.`);
  check(urlPatterns.every((p) => p.length <= 200), 'Show on pages: each pattern may have at most 200 characters.');
  const autoOpenSeconds = optionalInteger(draft.display.autoOpenSeconds, 1, 3600, 'Open by itself after', problems);
  const snoozeDays = optionalInteger(draft.display.snoozeDays, 1, 365, 'Snooze after dismiss or send', problems);
  const maxShows = optionalInteger(draft.display.maxShows, 1, 1000, 'Show at most', problems);

  const texts = parseTexts(draft.texts, problems);

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    settings: {
      launcher: {
        position: launcher.position,
        label: launcher.label.trim(),
        color: launcher.color.toLowerCase(),
        textColor: launcher.textColor.toLowerCase(),
      },
      theme: draft.theme,
      locale: draft.locale,
      types,
      rating: draft.rating,
      email: draft.email,
      customFields,
      consent: { required: draft.consent.required, privacyUrl: privacyUrl === '' ? null : privacyUrl },
      screenshot: { ...draft.screenshot },
      // The query string is only kept when the page URL is sent at all.
      context: { ...draft.context, keepQuery: draft.context.pageUrl && draft.context.keepQuery },
      display: { urlPatterns, autoOpenSeconds, snoozeDays, maxShows },
      identity: { ...draft.identity },
      texts,
    },
  };
}

/** True when the draft would save something other than `settings`. */
export function isDraftChanged(draft: SettingsDraft, settings: WidgetSettings): boolean {
  const result = fromDraft(draft);
  if (!result.ok) return true;
  const saved = fromDraft(toDraft(settings));
  return !saved.ok || stableJson(result.settings) !== stableJson(saved.settings);
}

/** WCAG 2.x contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a: string, b: string): number | null {
  if (!COLOR.test(a) || !COLOR.test(b)) return null;
  const [la, lb] = [luminance(a), luminance(b)];
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function lines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function numberText(value: number | null): string {
  return value === null ? '' : String(value);
}

function optionalInteger(text: string, min: number, max: number, name: string, problems: string[]): number | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(value >= min && value <= max)) {
    problems.push(`${name}: a whole number from ${min} to ${max}, or empty for off.`);
    return null;
  }
  return value;
}

function checkUnique(values: string[], name: string, problems: string[]) {
  const seen = new Set<string>();
  for (const value of values) {
    if (value !== '' && seen.has(value)) problems.push(`${name}: “${value}” appears twice.`);
    seen.add(value);
  }
}

function parseTexts(text: string, problems: string[]): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const line of lines(text)) {
    const at = line.indexOf('=');
    const key = at < 0 ? line : line.slice(0, at).trim();
    const value = at < 0 ? '' : line.slice(at + 1).trim();
    if (at < 0 || !TEXT_KEY.test(key)) {
      problems.push(`Widget texts: “${line.slice(0, 40)}” is not a “key = text” line.`);
    } else if (value.length > 300) {
      problems.push(`Widget texts: the text for “${key}” is longer than 300 characters.`);
    } else {
      texts[key] = value;
    }
  }
  if (Object.keys(texts).length > MAX_TEXTS) problems.push(`Widget texts: at most ${MAX_TEXTS} overrides.`);
  return texts;
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
