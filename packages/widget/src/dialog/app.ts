// The dialog chunk's entry: loaded when the visitor (or the site) first opens
// the dialog, or when a previous page left feedback to deliver.
import { h } from '../dom.js';
import type { App, Runtime } from '../runtime.js';
import { createDialogView, type DialogView } from './dialog-view.js';
import { createOutbox } from './outbox.js';
import { createProver } from './proof.js';

export function startApp(runtime: Runtime): App {
  // Where a third-party captcha may ask the visitor something: the dialog places it in its form.
  const captchaSlot = h('div');
  const prover = createProver(runtime, captchaSlot);
  const outbox = createOutbox(runtime, prover);
  let view: DialogView | null = null;
  const built = () => (view ??= createDialogView(runtime, outbox, prover, captchaSlot));
  return {
    prepare: () => void built(),
    open: (trigger) => built().open(trigger),
    close: () => view?.close(),
    destroy() {
      outbox.stop();
      prover.stop();
      view?.destroy();
    },
  };
}
