import { noteClosed } from '../display-rules.js';
import { h, icon } from '../dom.js';
import { createIdempotencyKey } from '../idempotency.js';
import type { OpenTrigger, Runtime } from '../runtime.js';
import css from './dialog.css';
import { consentPart, customParts, emailPart, honeypotField, messagePart, typePart } from './fields.js';
import type { FormPart } from './form-part.js';
import { CHECK, CLOSE } from './icons.js';
import { createTranslator } from './messages.js';
import type { Outbox } from './outbox.js';
import type { Prover } from './proof.js';
import { buildRating } from './rating.js';
import { limitText, refusalText } from './refusal.js';
import { reporterId } from './reporter.js';
import { screenshotPart } from './screenshot-part.js';
import { buildBody, readForm, runBeforeSubmit } from './submission.js';

export type DialogView = { open(trigger: OpenTrigger): void; close(): void; destroy(): void };

/** The server's bound for elapsedMs. */
const MAX_ELAPSED_MS = 86_400_000;

export function createDialogView(runtime: Runtime, outbox: Outbox, prover: Prover, captchaSlot: HTMLElement): DialogView {
  const { settings, protection, locale, host, events, store, report } = runtime;
  const t = createTranslator(runtime);
  host.adopt(css);

  const alert = h('p', { class: 'alert', role: 'alert' });
  const showAlert = (text: string) => {
    alert.textContent = text;
  };
  const rating = buildRating(settings.rating, t);
  const screenshot = screenshotPart(runtime, t, {
    hide() {
      isCapturing = true;
      dialog.close();
    },
    show() {
      dialog.showModal();
      isCapturing = false;
    },
    alert: showAlert,
  });
  const parts: FormPart[] = [
    typePart(settings.types, t),
    rating && { element: rating },
    messagePart(t),
    emailPart(runtime, t),
    ...customParts(settings.customFields, t),
    screenshot,
    consentPart(settings.consent, t),
  ].filter((part): part is FormPart => part !== null);

  const closeButton = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('close') }, [icon(CLOSE)]);
  const cancel = h('button', { type: 'button', class: 'secondary' }, [t('cancel')]);
  const send = h('button', { type: 'submit', class: 'primary' }, [t('send')]);
  const fields = h('div', { class: 'fields' }, parts.map((part) => part.element));
  // The honeypot after the fields: opening the dialog focuses the first field's control.
  const form = h('form', { class: 'form', novalidate: true }, [fields, honeypotField(), captchaSlot, h('div', { class: 'footer' }, [alert, h('div', { class: 'actions' }, [cancel, send])])]);
  const thanksText = h('p');
  const thanksClose = h('button', { type: 'button', class: 'primary' }, [t('close')]);
  const thanks = h('div', { class: 'thanks', hidden: true }, [h('div', { class: 'thanks-icon' }, [icon(CHECK)]), h('h3', {}, [t('thanks.title')]), thanksText, thanksClose]);
  // Announces success politely; errors go through the alert above.
  const status = h('p', { class: 'visually-hidden', role: 'status' });
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'p-title' }, [
    h('div', { class: 'head' }, [h('h2', { id: 'p-title' }, [t('title')]), closeButton]),
    form,
    thanks,
    status,
  ]);
  host.root.append(dialog);

  let isSending = false;
  let isCapturing = false;
  let isDestroyed = false;
  let wasSubmitted = false;
  let returnFocus: Element | null = null;
  /** When the visitor opened the dialog for this feedback (performance.now()); null until then. */
  let openedAt: number | null = null;

  const setSending = (value: boolean) => {
    isSending = value;
    // aria-disabled rather than disabled: disabling the focused button would drop keyboard focus.
    send.setAttribute('aria-disabled', String(value));
    send.textContent = t(value ? 'sending' : 'send');
  };

  const startOver = () => {
    form.reset();
    for (const part of parts) part.clear?.();
    form.hidden = false;
    thanks.hidden = true;
    status.textContent = '';
    openedAt = null;
  };

  // The server refuses feedback sent sooner than the project's minimum after
  // opening (too_fast, against scripts); a person this quick waits on "Sending…".
  const elapsedAfterMinimum = async (): Promise<number> => {
    const since = openedAt ?? performance.now();
    const wait = protection.minSeconds * 1000 - (performance.now() - since);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    return Math.min(Math.round(performance.now() - since), MAX_ELAPSED_MS);
  };

  const showThanks = (isQueued: boolean) => {
    thanksText.textContent = t(isQueued ? 'thanks.queued' : 'thanks.sent');
    form.hidden = true;
    thanks.hidden = false;
    status.textContent = `${t('thanks.title')} ${thanksText.textContent}`;
    thanksClose.focus();
  };

  async function submit(): Promise<void> {
    showAlert('');
    // Every part shows its own error; focus goes to the first one.
    const invalid = parts.map((part) => part.check?.() ?? null).filter((control) => control !== null);
    if (invalid[0]) {
      invalid[0].focus();
      return;
    }
    setSending(true);
    try {
      const shot = screenshot?.blob() ?? null;
      const draft = await runBeforeSubmit(runtime, buildBody(runtime, readForm(form, settings.customFields)), shot);
      if (!draft) return;
      const body = { ...draft, reporter: reporterId(store), elapsedMs: await elapsedAfterMinimum() };
      const outcome = await outbox.send({ key: createIdempotencyKey(), body, screenshot: shot, queuedAt: Date.now() });
      if (outcome.kind === 'limited') {
        showAlert(limitText(outcome.afterMs, outcome.problem, t, locale));
        return;
      }
      if (outcome.kind === 'refused') {
        showAlert(refusalText(outcome.problem, t));
        return;
      }
      for (const part of parts) part.commit?.();
      wasSubmitted = true;
      noteClosed(settings.display, store, true, Date.now());
      showThanks(outcome.kind === 'queued');
    } catch (error) {
      // A beforeSubmit handler threw: sending what it meant to redact could leak it.
      report('before_submit_failed', `A beforeSubmit handler threw, so the feedback was not sent: ${String(error)}`);
      showAlert(t('error.generic'));
    } finally {
      setSending(false);
    }
  }

  function open(trigger: OpenTrigger): void {
    if (dialog.open || isCapturing || isDestroyed) return;
    if (!thanks.hidden) startOver();
    const active = document.activeElement;
    returnFocus = active === host.element ? runtime.launcher : active;
    showAlert('');
    openedAt ??= performance.now();
    prover.prepare();
    for (const part of parts) part.prepare?.();
    dialog.showModal();
    fields.querySelector<HTMLElement>('input, textarea, select, button')?.focus();
    events.emit('open', { trigger });
  }

  dialog.addEventListener('close', () => {
    // Closed for a screenshot, or already open again: not a dismissal.
    if (isCapturing || dialog.open || isDestroyed) return;
    if (!wasSubmitted) noteClosed(settings.display, store, false, Date.now());
    events.emit('close', { submitted: wasSubmitted });
    wasSubmitted = false;
    if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus({ preventScroll: true });
    returnFocus = null;
  });
  // The page behind is inert while the dialog is modal, so Tab would leave
  // for the browser's own controls; keep it cycling inside. The close button
  // is always first, and the last button of the visible state always last.
  dialog.addEventListener('keydown', (event) => {
    if (event.key !== 'Tab') return;
    const last = thanks.hidden ? send : thanksClose;
    const [from, to] = event.shiftKey ? [closeButton, last] : [last, closeButton];
    if (host.shadow.activeElement === from) {
      event.preventDefault();
      to.focus();
    }
  });
  // A field's error goes away as soon as the visitor fixes it.
  form.addEventListener('input', ({ target }) => {
    for (const part of parts) {
      if (part.check && part.element.contains(target as Node) && part.element.querySelector('[aria-invalid]')) part.check();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!isSending) void submit();
  });
  const close = () => dialog.close();
  for (const button of [closeButton, cancel, thanksClose]) button.addEventListener('click', close);

  return {
    open,
    close,
    destroy() {
      isDestroyed = true;
      screenshot?.clear?.();
      dialog.close();
      dialog.remove();
    },
  };
}
