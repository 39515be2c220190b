/** One piece of the feedback form, with the hooks the dialog calls. */
export type FormPart = {
  element: HTMLElement;
  /** Shows or clears this part's error; returns the control to focus when it is invalid. */
  check?(): HTMLElement | null;
  /** The dialog opens. */
  prepare?(): void;
  /** The feedback was handed over for sending. */
  commit?(): void;
  /** Back to empty for the next feedback. */
  clear?(): void;
};

/** Marks a control invalid with its message (read by screen readers with the control), or clears it. */
export function showError(control: HTMLElement, error: HTMLElement, message: string | null): HTMLElement | null {
  error.textContent = message ?? '';
  error.hidden = !message;
  if (message) {
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-describedby', error.id);
  } else {
    control.removeAttribute('aria-invalid');
    control.removeAttribute('aria-describedby');
  }
  return message ? control : null;
}
