import { h } from '../dom.js';
import type { Runtime } from '../runtime.js';
import type { WidgetSettings } from '../settings.js';
import { EMAIL } from './visitor.js';
import { showError, type FormPart } from './form-part.js';
import type { MessageKey, Translate } from './messages.js';

const BUILT_IN_TYPES = ['bug', 'idea', 'praise', 'other'];

function errorFor(id: string): HTMLParagraphElement {
  return h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
}

/** A label, its control and the control's error message. */
function labelled(id: string, label: string, control: HTMLElement, hint: string | null, extra: Node[] = []): { element: HTMLDivElement; error: HTMLParagraphElement } {
  const error = errorFor(id);
  const text: (Node | string)[] = [label];
  if (hint) text.push(h('span', { class: 'hint' }, [` (${hint})`]));
  return { element: h('div', { class: 'field' }, [h('label', { for: id }, text), control, ...extra, error]), error };
}

/** A required text check: blank gives `message`. */
function requireValue(control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, error: HTMLElement, message: string): () => HTMLElement | null {
  return () => showError(control, error, control.value.trim() ? null : message);
}

export function typePart(types: WidgetSettings['types'], t: Translate): FormPart | null {
  if (types.length === 0) return null;
  const choices = types.map(({ id, label }) =>
    h('label', { class: 'choice' }, [
      h('input', { type: 'radio', name: 'type', value: id }),
      h('span', { class: 'mark' }, [label || (BUILT_IN_TYPES.includes(id) ? t(`type.${id}` as MessageKey) : id)]),
    ]),
  );
  return { element: h('fieldset', { class: 'types' }, [h('legend', {}, [t('type.legend')]), h('div', { class: 'choices' }, choices)]) };
}

export function messagePart(t: Translate): FormPart {
  const control = h('textarea', { id: 'p-message', name: 'message', rows: '4', maxlength: '10000', required: true, placeholder: t('message.placeholder') });
  const { element, error } = labelled('p-message', t('message'), control, null);
  return { element, check: requireValue(control, error, t('error.message')) };
}

/** The e-mail field as the project wants it, with "remember me" (the only place the widget stores an address). */
export function emailPart({ settings, store, options, visitor }: Runtime, t: Translate): FormPart | null {
  if (settings.email === 'hidden') return null;
  const isRequired = settings.email === 'required';
  const control = h('input', { id: 'p-email', name: 'email', type: 'email', autocomplete: 'email', maxlength: '254', spellcheck: 'false', required: isRequired });
  const remember = options.storage !== 'none' ? h('input', { type: 'checkbox', id: 'p-remember' }) : null;
  const rememberRow = remember ? [h('div', { class: 'check' }, [remember, h('label', { for: 'p-remember' }, [t('remember')])])] : [];
  const { element, error } = labelled('p-email', t('email'), control, isRequired ? null : t('optional'), rememberRow);
  return {
    element,
    check() {
      const value = control.value.trim();
      const problem = value ? (EMAIL.test(value) ? null : t('error.email')) : isRequired ? t('error.required') : null;
      return showError(control, error, problem);
    },
    prepare() {
      if (control.value) return;
      const remembered = store.get('email');
      control.value = remembered ?? visitor.identity?.email ?? '';
      if (remember) remember.checked = remembered !== null;
    },
    commit() {
      const value = control.value.trim();
      if (remember?.checked && value) store.set('email', value);
      else store.remove('email');
    },
  };
}

export function customParts(fields: WidgetSettings['customFields'], t: Translate): FormPart[] {
  return fields.map((field) => {
    const id = `p-custom-${field.id}`;
    const attrs = { id, name: `custom.${field.id}`, required: field.required };
    const control =
      field.type === 'select'
        ? h('select', attrs, [h('option', { value: '' }, [t('choose')]), ...field.options.map((option) => h('option', { value: option }, [option]))])
        : h('input', { ...attrs, type: 'text', maxlength: '2000' });
    const { element, error } = labelled(id, field.label, control, field.required ? null : t('optional'));
    return { element, check: field.required ? requireValue(control, error, t('error.required')) : undefined };
  });
}

export function consentPart(consent: WidgetSettings['consent'], t: Translate): FormPart | null {
  if (!consent.required) return null;
  const control = h('input', { type: 'checkbox', id: 'p-consent', name: 'consent', required: true });
  const error = errorFor('p-consent');
  // The server allows only http(s) here; checked again so no other scheme can become a link.
  const link = consent.privacyUrl && /^https?:\/\//i.test(consent.privacyUrl) ? [' ', h('a', { href: consent.privacyUrl, target: '_blank', rel: 'noopener noreferrer' }, [t('privacy')])] : [];
  const element = h('div', { class: 'field' }, [h('div', { class: 'check' }, [control, h('span', {}, [h('label', { for: 'p-consent' }, [t('consent')]), ...link])]), error]);
  return { element, check: () => showError(control, error, control.checked ? null : t('error.consent')) };
}

/** The honeypot's field name: one that form-filling bots fill and browsers' autofill does not. */
export const HONEYPOT = 'website';

/**
 * A text field no person sees or reaches (hidden from sight, from screen
 * readers and from Tab) and autofill leaves alone: only a script filling
 * every field fills it, and the server then refuses (honeypot_filled).
 */
export function honeypotField(): HTMLElement {
  const control = h('input', { type: 'text', id: 'p-website', name: HONEYPOT, tabindex: '-1', autocomplete: 'off' });
  return h('div', { class: 'visually-hidden', 'aria-hidden': 'true' }, [h('label', { for: 'p-website' }, ['Website']), control]);
}
