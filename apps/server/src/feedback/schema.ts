import { Type, type Static } from '@fastify/type-provider-typebox';
import { DateTime, NonBlankText, Nullable, OneOf, PageQuery, Text, Uuid } from '../http/schemas.js';

// The shapes of feedback as the API takes and gives it. Each validates
// requests, serialises answers (only the properties named here leave) and
// feeds the OpenAPI document; the service's types come from them.

export const STATUSES = ['new', 'in_progress', 'done', 'archived'] as const;
export type Status = (typeof STATUSES)[number];
export const Status = OneOf(STATUSES);

const Slug = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,31}$' });
const Key = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const Email = Type.String({ format: 'email', maxLength: 254 });

/** Who the reporter says they are (a signed-in visitor of the customer's site). */
const IdentityFields = {
  id: Text({ minLength: 1, maxLength: 200 }),
  email: Type.Optional(Email),
  name: Type.Optional(Text({ maxLength: 200 })),
};

/** What the reporter wrote and the page they were on: the same for the widget and a server. */
const SubmissionFields = {
  message: NonBlankText(10_000),
  rating: Type.Optional(Type.Integer({ minimum: 0, maximum: 10 })),
  type: Type.Optional(Slug),
  email: Type.Optional(Email),
  consent: Type.Optional(Type.Boolean()),
  custom: Type.Optional(Type.Record(Slug, Text({ maxLength: 2000 }), { maxProperties: 10, additionalProperties: false })),
  metadata: Type.Optional(Type.Record(Key, Type.Union([Text({ maxLength: 500 }), Type.Number(), Type.Boolean()]), { maxProperties: 20, additionalProperties: false })),
  pageUrl: Type.Optional(Text({ maxLength: 2048 })),
  locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z0-9-]+$' })),
  viewport: Type.Optional(
    Type.Object({ width: Type.Integer({ minimum: 0, maximum: 100_000 }), height: Type.Integer({ minimum: 0, maximum: 100_000 }) }, { additionalProperties: false }),
  ),
  browser: Type.Optional(Text({ maxLength: 100 })),
  os: Type.Optional(Text({ maxLength: 100 })),
  consoleErrors: Type.Optional(
    Type.Array(Type.Object({ message: Text({ maxLength: 1000 }), stack: Type.Optional(Text({ maxLength: 4000 })) }, { additionalProperties: false }), { maxItems: 20 }),
  ),
};

/** A submission from the widget: the reporter's fields and what the front door checks. */
export const WidgetSubmissionSchema = Type.Object(
  {
    ...SubmissionFields,
    identity: Type.Optional(
      Type.Object(
        {
          ...IdentityFields,
          signature: Type.Optional(Type.String({ pattern: '^[0-9a-f]{64}$' })),
          /** A signed-submission token minted by the site's backend (see docs/widget.md). */
          token: Type.Optional(Type.String({ pattern: '^[0-9]{1,12}\\.[0-9a-f]{64}$' })),
        },
        { additionalProperties: false },
      ),
    ),
    screenshotId: Type.Optional(Type.String({ format: 'uuid' })),
    /** A random id per widget session: the per-reporter limit and duplicate check count by it. */
    reporter: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{16,64}$' })),
    /** The solved proof-of-work challenge (ALTCHA payload, base64). */
    challenge: Type.Optional(Type.String({ minLength: 1, maxLength: 4000 })),
    /** The third-party captcha's response token. */
    captcha: Type.Optional(Type.String({ minLength: 1, maxLength: 8192, pattern: '^[\\x21-\\x7e]+$' })),
    /** A field people never see; only bots fill it. */
    honeypot: Type.Optional(Type.String({ maxLength: 500 })),
    /** Milliseconds from opening the dialog to sending. */
    elapsedMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400_000 })),
  },
  { additionalProperties: false },
);

/**
 * Feedback a customer's server sends with an API key: the widget's fields
 * without what proves a browser is a person (the key does), without a
 * screenshot, and with an identity the server vouches for (no signature).
 */
export const ServerSubmissionSchema = Type.Object(
  { ...SubmissionFields, identity: Type.Optional(Type.Object(IdentityFields, { additionalProperties: false })) },
  { additionalProperties: false },
);

export const RATING_SCALES = ['stars', 'thumbs', 'emoji', 'nps'] as const;

/** A feedback item in a list: what the team triages, and never the reporter's personal data. */
export const FeedbackItemSchema = Type.Object({
  id: Type.String(),
  projectId: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
  status: Status,
  rating: Nullable(Type.Integer()),
  /** What the rating counts on: stars and emoji 1-5, thumbs 0 (down) or 1 (up), nps 0-10; null for ratings before scales existed (1-5). */
  ratingScale: Nullable(OneOf(RATING_SCALES)),
  type: Nullable(Type.String()),
  message: Type.String(),
  pageUrl: Nullable(Type.String()),
  hasScreenshot: Type.Boolean(),
  assigneeId: Nullable(Type.String()),
  labelIds: Type.Array(Type.String()),
  noteCount: Type.Integer(),
  /** Raised by every change; the ETag. */
  version: Type.Integer(),
});
export type FeedbackItem = Static<typeof FeedbackItemSchema>;

/** One feedback item: the list's fields and the page context that is not personal data. */
export const FeedbackSchema = Type.Object({
  ...FeedbackItemSchema.properties,
  locale: Nullable(Type.String()),
  viewport: Nullable(Type.Object({ width: Type.Integer(), height: Type.Integer() })),
  /** Whether the reporter's identity was signed by the site (or sent by its server); null without an identity. */
  identityVerified: Nullable(Type.Boolean()),
});
export type Feedback = Static<typeof FeedbackSchema>;

/** The reporter's personal data, stored sealed: each read is recorded in the audit log. */
export const ReporterSchema = Type.Object({
  email: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  userAgent: Nullable(Type.String()),
  identity: Nullable(Type.Object({ id: Type.String(), email: Nullable(Type.String()), name: Nullable(Type.String()), verified: Type.Boolean() })),
  custom: Type.Record(Type.String(), Type.String()),
  metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  browser: Nullable(Type.String()),
  os: Nullable(Type.String()),
  consoleErrors: Type.Array(Type.Object({ message: Type.String(), stack: Nullable(Type.String()) })),
  consent: Nullable(Type.Boolean()),
});
export type Reporter = Static<typeof ReporterSchema>;

const Digit = '^(10|[0-9])$';

export const ListQuerySchema = Type.Object(
  {
    projectId: Type.Optional(Uuid),
    status: Type.Optional(Status),
    type: Type.Optional(Slug),
    /** Exactly this rating; or a range with ratingMin and ratingMax (inclusive). */
    rating: Type.Optional(Type.String({ pattern: Digit })),
    ratingMin: Type.Optional(Type.String({ pattern: Digit })),
    ratingMax: Type.Optional(Type.String({ pattern: Digit })),
    /** Created at or after. */
    from: Type.Optional(Type.String({ format: 'date-time' })),
    /** Created before. */
    to: Type.Optional(Type.String({ format: 'date-time' })),
    /** Words in the message, all of them; the last one may be the start of a word. */
    q: Type.Optional(NonBlankText(200)),
    label: Type.Optional(Uuid),
    /** A member's user id, or `none` for unassigned feedback. */
    assignee: Type.Optional(Type.Union([Uuid, Type.Literal('none')])),
    ...PageQuery(25),
  },
  { additionalProperties: false },
);

export const FeedbackPageSchema = Type.Object({ items: Type.Array(FeedbackItemSchema), nextCursor: Nullable(Type.String()) });

export const FeedbackChangesSchema = Type.Object(
  {
    status: Type.Optional(Status),
    /** A member who can see the feedback's project, or null to unassign. */
    assigneeId: Type.Optional(Nullable(Uuid)),
    /** The labels it should have (replaces the current set). */
    labelIds: Type.Optional(Type.Array(Uuid, { maxItems: 20, uniqueItems: true })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type FeedbackChanges = Static<typeof FeedbackChangesSchema>;

export const NoteSchema = Type.Object({
  id: Type.String(),
  feedbackId: Type.String(),
  body: Type.String(),
  /** Who wrote it (for a note written with an API key: the key's creator); null once their account is gone. */
  author: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  /** The API key it was written with, if any. */
  apiKeyId: Nullable(Type.String()),
  createdAt: DateTime,
});
export type Note = Static<typeof NoteSchema>;
