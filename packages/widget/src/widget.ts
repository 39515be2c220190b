import { h } from './dom.js';
import { GENERIC_ERROR, SendError, buildFeedbackBody, sendFeedback, type FeedbackInput } from './feedback-api.js';
import { createIdempotencyKey } from './idempotency.js';
import css from './styles.css';

export type WidgetConfig = { projectKey: string; apiOrigin: string };
export type Widget = { open(): void; close(): void };

const TITLE_ID = 'parley-title';

function optionalHint(): HTMLSpanElement {
  return h('span', { class: 'optional' }, [' (optional)']);
}

function buildRatingGroup(): HTMLFieldSetElement {
  const options = [1, 2, 3, 4, 5].map((value) =>
    h('label', {}, [h('input', { type: 'radio', name: 'rating', value: String(value) }), h('span', {}, [String(value)])]),
  );
  return h('fieldset', { class: 'rating' }, [h('legend', {}, ['How would you rate it?', optionalHint()]), h('div', {}, options)]);
}

function buildField(id: string, text: string, control: HTMLElement, isOptional: boolean): HTMLDivElement {
  const label = h('label', { class: 'field', for: id }, [text]);
  if (isOptional) label.append(optionalHint());
  return h('div', {}, [label, control]);
}

function readInput(form: HTMLFormElement): FeedbackInput {
  const data = new FormData(form);
  const rating = Number(data.get('rating'));
  const email = String(data.get('email') ?? '').trim();
  // Optional fields are omitted, not sent empty, so the server sees only what the visitor gave.
  return {
    message: String(data.get('message') ?? '').trim(),
    ...(rating ? { rating } : {}),
    ...(email ? { email } : {}),
  };
}

function attachStyles(shadow: ShadowRoot): void {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(css);
  shadow.adoptedStyleSheets = [sheet];
}

export function mountWidget({ projectKey, apiOrigin }: WidgetConfig): Widget {
  const endpoint = `${apiOrigin}/api/widget/v1/projects/${encodeURIComponent(projectKey)}/feedback`;

  const launcher = h('button', { type: 'button', class: 'launcher', 'aria-haspopup': 'dialog' }, ['Feedback']);
  const message = h('textarea', { id: 'parley-message', name: 'message', required: true, maxlength: '10000', rows: '5' });
  const email = h('input', { id: 'parley-email', type: 'email', name: 'email', maxlength: '254', autocomplete: 'email' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const cancel = h('button', { type: 'button' }, ['Cancel']);
  const send = h('button', { type: 'submit', class: 'primary' }, ['Send']);
  const form = h('form', {}, [
    buildRatingGroup(),
    buildField('parley-message', 'Your feedback', message, false),
    buildField('parley-email', 'Email', email, true),
    error,
    h('div', { class: 'actions' }, [cancel, send]),
  ]);
  const closeThanks = h('button', { type: 'button', class: 'primary' }, ['Close']);
  const thanks = h('div', { class: 'thanks', hidden: true }, [
    h('p', { role: 'status' }, ['Thanks for your feedback!']),
    h('div', { class: 'actions' }, [closeThanks]),
  ]);
  const dialog = h('dialog', { role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': TITLE_ID }, [
    h('h2', { id: TITLE_ID }, ['Send feedback']),
    form,
    thanks,
  ]);

  const host = h('div', { 'data-parley-widget': true });
  const shadow = host.attachShadow({ mode: 'open' });
  attachStyles(shadow);
  shadow.append(launcher, dialog);
  document.body.append(host);

  // One key per submission: resending the same content after a network error
  // or 5xx reuses it so the server stores one row even if the first request
  // arrived; edited content or a 4xx refusal starts a new submission.
  let pending: { content: string; key: string } | undefined;
  let isSending = false;

  function showError(text: string): void {
    error.textContent = text;
    error.hidden = !text;
  }

  function setSending(value: boolean): void {
    isSending = value;
    // aria-disabled rather than disabled: disabling the focused button would drop keyboard focus.
    send.setAttribute('aria-disabled', String(value));
    send.textContent = value ? 'Sending…' : 'Send';
  }

  function showThanks(): void {
    form.reset();
    form.hidden = true;
    thanks.hidden = false;
    closeThanks.focus();
  }

  async function submit(): Promise<void> {
    const input = readInput(form);
    if (!input.message) {
      showError('Please write a message.');
      message.focus();
      return;
    }
    const content = JSON.stringify(input);
    if (pending?.content !== content) pending = { content, key: createIdempotencyKey() };
    setSending(true);
    showError('');
    try {
      await sendFeedback(endpoint, buildFeedbackBody(input), pending.key);
      pending = undefined;
      showThanks();
    } catch (caught) {
      if (caught instanceof SendError && caught.isRefusal) pending = undefined;
      showError(caught instanceof SendError ? caught.message : GENERIC_ERROR);
    } finally {
      setSending(false);
    }
  }

  function open(): void {
    if (dialog.open) return;
    showError('');
    form.hidden = false;
    thanks.hidden = true;
    dialog.showModal();
    message.focus();
  }

  function close(): void {
    dialog.close();
  }

  launcher.addEventListener('click', open);
  cancel.addEventListener('click', close);
  closeThanks.addEventListener('click', close);
  // Fires for Escape (native dialog cancel) as well as the buttons.
  dialog.addEventListener('close', () => launcher.focus());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!isSending) void submit();
  });

  return { open, close };
}
