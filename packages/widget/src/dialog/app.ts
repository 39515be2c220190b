// The dialog chunk's entry: loaded when the visitor (or the site) first opens
// the dialog, or when a previous page left feedback to deliver.
import type { App, Runtime } from '../runtime.js';
import { createDialogView, type DialogView } from './dialog-view.js';
import { createOutbox } from './outbox.js';

export function startApp(runtime: Runtime): App {
  const outbox = createOutbox(runtime);
  let view: DialogView | null = null;
  return {
    open: (trigger) => (view ??= createDialogView(runtime, outbox)).open(trigger),
    close: () => view?.close(),
    destroy() {
      outbox.stop();
      view?.destroy();
    },
  };
}
