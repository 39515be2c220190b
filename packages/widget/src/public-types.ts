// The public API: window.Parley (script tag) and the @parley/widget module
// (bundlers). This file imports nothing, so its declaration file stands alone
// in the npm package.

export type WidgetOptions = {
  /** The project key (`data-project`). */
  project: string;
  /** Parley's origin, e.g. `https://feedback.example.com`. With the script tag it defaults to where the script came from; from npm it is required. */
  apiOrigin?: string;
  /** `'none'`: keep nothing in localStorage (no retry across page loads, no remembered e-mail, display rules count per page load). Default `'local'`. */
  storage?: 'local' | 'none';
  /** Put the visitor's e-mail, identity and screenshot into event payloads. Off by default: other scripts on the page do not see them. */
  exposePersonalData?: boolean;
  /** CSP nonce for the elements the widget asks the browser to fetch script with. Default: the loader script's own nonce. */
  nonce?: string;
  /** `false`: no launcher button; the site opens the dialog with `Parley.open()`. */
  launcher?: boolean;
  /** Replace any built-in text, by key (docs/widget.md lists the keys). Wins over the project's settings. */
  texts?: Record<string, string>;
};

/**
 * A signed-in user of the site. `signature` = hex(HMAC-SHA256(project identity secret, id)), computed by the site's backend.
 * `token`: a short-lived signed-submission token from the site's backend (at most 200 characters; docs/widget.md), needed when the project requires signed submissions.
 */
export type Identity = { id: string; email?: string; name?: string; signature?: string; token?: string };

/** Up to 20 keys (letters, digits, `_ . -`, at most 64); strings up to 500 characters. `null` removes a key. */
export type Metadata = Record<string, string | number | boolean | null>;

export type ConsoleError = { message: string; stack?: string };

/** The JSON body of POST /api/widget/v1/projects/:key/feedback. */
export type FeedbackBody = {
  message: string;
  type?: string;
  rating?: number;
  email?: string;
  consent?: boolean;
  custom?: Record<string, string>;
  metadata?: Record<string, string | number | boolean>;
  identity?: Identity;
  pageUrl?: string;
  locale?: string;
  viewport?: { width: number; height: number };
  browser?: string;
  os?: string;
  consoleErrors?: ConsoleError[];
  screenshotId?: string;
  /** The widget's random id for this browser (or page load), for the per-reporter rate limit. */
  reporter?: string;
  /** The solved proof-of-work challenge (base64), fresh for every attempt. */
  challenge?: string;
  /** The third-party captcha's token, fresh for every attempt. */
  captcha?: string;
  /** The hidden field only bots fill; sent only when it is not empty. */
  honeypot?: string;
  /** Milliseconds from opening the dialog to sending. */
  elapsedMs?: number;
};

/** What the widget adds for the server's front door; event handlers never see these. */
type ProtectionFields = 'reporter' | 'challenge' | 'captcha' | 'honeypot' | 'elapsedMs';

/** What event handlers see of a feedback: the body without `email`, `identity` and the screenshot, unless `exposePersonalData` is set. */
export type FeedbackData = Omit<FeedbackBody, 'email' | 'identity' | 'screenshotId' | ProtectionFields> & { email?: string; identity?: Identity; screenshot?: Blob };

/** What a beforeSubmit handler may return: `false` cancels, an object replaces the fields it names. */
export type BeforeSubmitResult = false | Partial<Pick<FeedbackData, 'message' | 'type' | 'rating' | 'custom' | 'metadata' | 'pageUrl' | 'email'>> | void;

export type ParleyEvents = {
  /** The project's settings arrived and the launcher is shown (when the display rules allow). */
  load: { project: string };
  open: { trigger: 'launcher' | 'api' | 'auto' };
  /** Before sending; handlers run one after another and may be async. A handler that throws cancels the submission. */
  beforeSubmit: FeedbackData;
  /** The server stored the feedback (possibly after retries, or on a later page load). */
  submit: { id: string; feedback: FeedbackData };
  close: { submitted: boolean };
  error: { code: string; message: string };
};

export type ParleyEventName = keyof ParleyEvents;
export type ParleyHandler<E extends ParleyEventName> = (payload: ParleyEvents[E]) => E extends 'beforeSubmit' ? BeforeSubmitResult | Promise<BeforeSubmitResult> : unknown;

export type Parley = {
  /** Starts the widget; calling it again restarts it with the new options (handlers, identity and metadata stay). */
  init(options: WidgetOptions): void;
  open(): void;
  close(): void;
  on<E extends ParleyEventName>(event: E, handler: ParleyHandler<E>): void;
  off<E extends ParleyEventName>(event: E, handler: ParleyHandler<E>): void;
  /** The signed-in user, sent with each feedback; `null` forgets it (sign-out). */
  identify(identity: Identity | null): void;
  /** Merged into the metadata sent with each feedback. */
  setMetadata(metadata: Metadata): void;
  /** Removes the widget, its listeners and timers, handlers, identity and metadata. */
  destroy(): void;
};
