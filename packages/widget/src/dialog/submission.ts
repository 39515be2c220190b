import type { BeforeSubmitResult, FeedbackBody, FeedbackData, Identity, WidgetOptions } from '../public-types.js';
import type { Runtime } from '../runtime.js';
import type { WidgetSettings } from '../settings.js';
import { collectContext } from './context.js';
import { HONEYPOT } from './fields.js';
import { checkIdentity, cleanMetadata } from './visitor.js';

export type FormInput = Pick<FeedbackBody, 'message' | 'type' | 'rating' | 'email' | 'custom' | 'honeypot'>;

/** What the visitor entered; empty optional fields are left out, not sent empty. */
export function readForm(form: HTMLFormElement, customFields: WidgetSettings['customFields']): FormInput {
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? '').trim();
  const custom = Object.fromEntries(customFields.map(({ id }) => [id, text(`custom.${id}`)]).filter(([, value]) => value));
  const type = text('type');
  const email = text('email');
  const honeypot = String(data.get(HONEYPOT) ?? '').slice(0, 500);
  return {
    message: text('message'),
    ...(type ? { type } : {}),
    ...(data.has('rating') ? { rating: Number(data.get('rating')) } : {}),
    ...(email ? { email } : {}),
    ...(Object.keys(custom).length > 0 ? { custom } : {}),
    ...(honeypot ? { honeypot } : {}),
  };
}

export function buildBody({ settings, visitor, consoleErrors, report }: Runtime, input: FormInput): FeedbackBody {
  const metadata = cleanMetadata(visitor.metadata, report);
  const identity = checkIdentity(visitor.identity, report);
  return {
    ...input,
    ...(settings.consent.required ? { consent: true } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(identity ? { identity } : {}),
    ...collectContext(settings.context, consoleErrors),
  };
}

// The token is a credential for submitting only: no other script on the page needs it.
const withoutToken = ({ token: _token, ...person }: Identity): Identity => person;

/** The feedback as event handlers see it: other scripts on the page get no personal data unless the site opted in. */
export function eventData(body: FeedbackBody, screenshot: Blob | null, { exposePersonalData }: WidgetOptions): FeedbackData {
  // The front door's fields are the widget's business with the server, not feedback.
  const { email, identity, screenshotId: _uploaded, reporter: _reporter, challenge: _challenge, captcha: _captcha, honeypot: _honeypot, elapsedMs: _elapsed, ...rest } = body;
  // A copy: a handler changing the payload changes nothing until it returns it.
  const data: FeedbackData = structuredClone(rest);
  if (exposePersonalData === true) Object.assign(data, email ? { email } : {}, identity ? { identity: withoutToken(identity) } : {}, screenshot ? { screenshot } : {});
  return data;
}

const AMENDABLE = ['message', 'type', 'rating', 'custom', 'pageUrl', 'email'] as const;

function amend(body: FeedbackBody, changes: Exclude<BeforeSubmitResult, false | void>, { options, report }: Runtime): FeedbackBody {
  const next: Record<string, unknown> = { ...body };
  for (const field of AMENDABLE) {
    // The e-mail is only the site's to change when it could see it.
    if (!(field in changes) || (field === 'email' && options.exposePersonalData !== true)) continue;
    const value = changes[field];
    if (value === undefined || value === null) delete next[field];
    else next[field] = value;
  }
  if (changes.metadata) next.metadata = cleanMetadata(changes.metadata, report);
  return next as FeedbackBody;
}

/** Runs the beforeSubmit handlers one after another; null when one cancelled. A handler that throws rejects (the caller cancels). */
export async function runBeforeSubmit(runtime: Runtime, body: FeedbackBody, screenshot: Blob | null): Promise<FeedbackBody | null> {
  let draft = body;
  for (const handler of runtime.events.handlers('beforeSubmit')) {
    const result = await handler(eventData(draft, screenshot, runtime.options));
    if (result === false) return null;
    if (result && typeof result === 'object') draft = amend(draft, result, runtime);
  }
  return draft;
}
