// The dialog chunk's entry: loaded when the visitor (or the site) first opens
// the dialog, or when a previous page left feedback to deliver.
import type { App, Runtime } from '../runtime.js';
import { createDialogView, type DialogView } from './dialog-view.js';
import { createOutbox } from './outbox.js';

export function startApp(runtime: Runtime): App {
  const outbox = createOutbox(runtime);
  let view: DialogView | null = null;
  const built = () => (view ??= createDialogView(runtime, outbox));
  return {
    prepare: () => void built(),
    open: (trigger) => built().open(trigger),
    close: () => view?.close(),
    destroy() {
      outbox.stop();
      view?.destroy();
    },
  };
}
