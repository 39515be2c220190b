import { Type, type Static } from '@fastify/type-provider-typebox';
import { NonBlankText, Text } from '../http/schemas.js';

// How a project's widget looks and behaves. The dashboard edits it, the
// widget reads it from GET /api/widget/v1/projects/:key/config, and ingestion
// validates submissions against it (rating range, types, custom fields,
// consent, identity). One schema for all three.

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' });
const Color = Type.String({ pattern: '^#[0-9a-fA-F]{6}$' });
const Url = Text({ maxLength: 2048, pattern: '^https?://[^\\s\\u0000]+$' });

export const RATING_MODES = ['stars', 'thumbs', 'emoji', 'nps', 'none'] as const;
export type RatingMode = (typeof RATING_MODES)[number];

/** The values a rating may take in each mode. */
export const RATING_RANGE: Record<RatingMode, { min: number; max: number } | null> = {
  stars: { min: 1, max: 5 },
  emoji: { min: 1, max: 5 },
  thumbs: { min: 0, max: 1 },
  nps: { min: 0, max: 10 },
  none: null,
};

export const WidgetSettingsSchema = Type.Object(
  {
    launcher: Type.Object(
      {
        position: Type.Unsafe<'bottom-right' | 'bottom-left' | 'top-right' | 'top-left'>(Type.String({ enum: ['bottom-right', 'bottom-left', 'top-right', 'top-left'] })),
        /** Empty: the built-in, translated "Feedback". */
        label: Text({ maxLength: 40 }),
        color: Color,
        textColor: Color,
      },
      { additionalProperties: false },
    ),
    theme: Type.Unsafe<'light' | 'dark' | 'auto'>(Type.String({ enum: ['light', 'dark', 'auto'] })),
    /** 'auto': the page's <html lang>, then the browser's languages. */
    locale: Type.Unsafe<'auto' | 'en' | 'de' | 'fr' | 'es'>(Type.String({ enum: ['auto', 'en', 'de', 'fr', 'es'] })),
    /** Feedback types offered; empty: no type question. Built-in ids (bug, idea, praise, other) have translated labels when `label` is empty. */
    types: Type.Array(Type.Object({ id: Slug, label: Text({ maxLength: 40 }) }, { additionalProperties: false }), { maxItems: 8 }),
    rating: Type.Unsafe<RatingMode>(Type.String({ enum: [...RATING_MODES] })),
    email: Type.Unsafe<'hidden' | 'optional' | 'required'>(Type.String({ enum: ['hidden', 'optional', 'required'] })),
    customFields: Type.Array(
      Type.Object(
        {
          id: Slug,
          label: NonBlankText(80),
          type: Type.Unsafe<'text' | 'select'>(Type.String({ enum: ['text', 'select'] })),
          /** For `select`: the choices (the submitted value must be one of them). */
          options: Type.Array(NonBlankText(80), { maxItems: 20 }),
          required: Type.Boolean(),
        },
        { additionalProperties: false },
      ),
      { maxItems: 10 },
    ),
    consent: Type.Object({ required: Type.Boolean(), privacyUrl: Type.Union([Url, Type.Null()]) }, { additionalProperties: false }),
    screenshot: Type.Object(
      { enabled: Type.Boolean(), mode: Type.Unsafe<'dom' | 'native'>(Type.String({ enum: ['dom', 'native'] })) },
      { additionalProperties: false },
    ),
    /** Which context the widget sends with each feedback. */
    context: Type.Object(
      {
        pageUrl: Type.Boolean(),
        /** Keep the query string and fragment of the page URL (dropped by default: they often hold personal data). */
        keepQuery: Type.Boolean(),
        browser: Type.Boolean(),
        viewport: Type.Boolean(),
        locale: Type.Boolean(),
        /** The last 20 console errors with their stack (opt-in). */
        consoleErrors: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    display: Type.Object(
      {
        /** Show the launcher only on pages whose path matches one of these (`*` matches any run of characters); empty: everywhere. */
        urlPatterns: Type.Array(Text({ minLength: 1, maxLength: 200 }), { maxItems: 20 }),
        /** Open the dialog by itself this many seconds after load; null: never. */
        autoOpenSeconds: Type.Union([Type.Integer({ minimum: 1, maximum: 3600 }), Type.Null()]),
        /** After a dismiss or a submit, do not show the launcher again for this many days; null: always show. */
        snoozeDays: Type.Union([Type.Integer({ minimum: 1, maximum: 365 }), Type.Null()]),
        /** Show the launcher at most this many times per visitor; null: no limit. */
        maxShows: Type.Union([Type.Integer({ minimum: 1, maximum: 1000 }), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    /** Require a signed identity (identify({ id, signature })) with every submission. */
    identity: Type.Object({ required: Type.Boolean() }, { additionalProperties: false }),
    /** Site-owner overrides of the widget's texts, by message key (see docs/widget.md). */
    texts: Type.Record(Type.String({ pattern: '^[a-zA-Z][a-zA-Z0-9_.]{0,63}$' }), Text({ maxLength: 300 }), { maxProperties: 60 }),
  },
  { additionalProperties: false },
);

export type WidgetSettings = Static<typeof WidgetSettingsSchema>;

export const DEFAULT_WIDGET_SETTINGS: WidgetSettings = {
  launcher: { position: 'bottom-right', label: '', color: '#2563eb', textColor: '#ffffff' },
  theme: 'auto',
  locale: 'auto',
  types: [],
  rating: 'stars',
  email: 'optional',
  customFields: [],
  consent: { required: false, privacyUrl: null },
  screenshot: { enabled: false, mode: 'dom' },
  context: { pageUrl: true, keepQuery: false, browser: true, viewport: true, locale: true, consoleErrors: false },
  display: { urlPatterns: [], autoOpenSeconds: null, snoozeDays: null, maxShows: null },
  identity: { required: false },
  texts: {},
};
