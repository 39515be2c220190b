// The annotation editor: a modal dialog in the widget's shadow root showing the
// screenshot on a canvas, where the visitor draws highlight boxes (outlines) or
// black-out boxes (filled black, painted into the exported pixels, so what they
// cover is gone, not hidden under a layer).
import { h, icon } from '../dom.js';
import type { ScreenshotStrings } from './strings.js';

type Tool = 'highlight' | 'blackout';
type Point = { x: number; y: number };
type Box = { tool: Tool; from: Point; to: Point };
export type Theme = 'light' | 'dark';

const HIGHLIGHT = '#ff2d55';
const HALO = 'rgba(255, 255, 255, 0.9)';
const CROSS = '#1d4ed8';
const TITLE_ID = 'parley-shot-title';
const HELP_ID = 'parley-shot-help';
const ICON_PATHS: Record<string, string> = {
  highlight: 'M4.5 5.5h15v13h-15z',
  blackout: 'M4 5h16v14H4z',
  undo: 'M9 14 4 9l5-5M4 9h10.5a5.5 5.5 0 0 1 0 11H11',
};

function button(label: string, className: string, iconName?: string): HTMLButtonElement {
  if (!iconName) return h('button', { type: 'button', class: className }, [label]);
  const picture = icon(ICON_PATHS[iconName]!);
  picture.setAttribute('class', `pss-icon pss-icon-${iconName}`);
  return h('button', { type: 'button', class: className }, [picture, label]);
}

export type EditorContext = {
  container: HTMLElement;
  strings: ScreenshotStrings;
  theme: Theme;
  /** Focused when the visitor asked for the screenshot; gets focus back at the end. */
  returnFocus: Element | null;
};

/** Opens a modal dialog in the container; closing it gives focus back. */
function openDialog({ container, theme, returnFocus }: EditorContext, attributes: Record<string, string>, children: Node[]): () => void {
  const dialog = h('dialog', { class: 'pss', 'data-theme': theme, ...attributes }, children);
  container.append(dialog);
  try {
    dialog.showModal();
  } catch (error) {
    dialog.remove();
    throw error;
  }
  return () => {
    dialog.close();
    dialog.remove();
    if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus();
  };
}

/** Tells the visitor the screenshot failed; resolves when they close the message. */
export function showFailure(editor: EditorContext): Promise<void> {
  const { strings } = editor;
  return new Promise((resolve) => {
    const message = h('p', { id: TITLE_ID, class: 'pss-message' }, [strings['screenshot.failed']]);
    const close = button(strings['screenshot.close'], 'pss-btn pss-primary');
    const shut = openDialog(editor, { role: 'alertdialog', class: 'pss pss-alert', 'aria-labelledby': TITLE_ID }, [
      message,
      h('div', { class: 'pss-end' }, [close]),
    ]);
    const finish = () => {
      shut();
      resolve();
    };
    close.focus();
    close.addEventListener('click', finish);
    close.closest('dialog')!.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish();
    });
  });
}

/**
 * Shows `shot` for annotation. `exportShot` encodes the annotated canvas; the
 * promise resolves to its Blob when the visitor is done, or null if they cancel.
 */
export function openEditor(shot: HTMLCanvasElement, editor: EditorContext, exportShot: (canvas: HTMLCanvasElement) => Promise<Blob>): Promise<Blob | null> {
  const { strings } = editor;
  const { width, height } = shot;
  const canvas = h('canvas', {
    class: 'pss-canvas',
    tabindex: '0',
    // application: screen readers pass the arrow keys through for keyboard drawing.
    role: 'application',
    'aria-label': strings['screenshot.canvas'],
    'aria-describedby': HELP_ID,
    width: String(width),
    height: String(height),
  });
  const context = canvas.getContext('2d')!;
  const tools: Record<Tool, HTMLButtonElement> = {
    highlight: button(strings['screenshot.highlight'], 'pss-btn pss-tool', 'highlight'),
    blackout: button(strings['screenshot.blackout'], 'pss-btn pss-tool', 'blackout'),
  };
  const undo = button(strings['screenshot.undo'], 'pss-btn', 'undo');
  const cancel = button(strings['screenshot.cancel'], 'pss-btn');
  const done = button(strings['screenshot.done'], 'pss-btn pss-primary');
  const error = h('p', { class: 'pss-error', role: 'alert', hidden: true }, [strings['screenshot.failed']]);

  const boxes: Box[] = [];
  let tool: Tool = 'highlight';
  let draft: Box | null = null;
  let cursor: Point = { x: Math.round(width / 2), y: Math.round(height / 2) };
  let isCursorShown = false;
  /** Set while the picture is being encoded: no more drawing. */
  let isBusy = false;
  const lineWidth = Math.max(2, Math.round(Math.max(width, height) / 400));

  const paint = (box: Box) => {
    const x = Math.min(box.from.x, box.to.x);
    const y = Math.min(box.from.y, box.to.y);
    const boxWidth = Math.abs(box.to.x - box.from.x);
    const boxHeight = Math.abs(box.to.y - box.from.y);
    if (box.tool === 'blackout') {
      context.fillStyle = '#000';
      context.fillRect(x, y, boxWidth, boxHeight);
      return;
    }
    context.lineJoin = 'round';
    context.strokeStyle = HALO;
    context.lineWidth = lineWidth * 2;
    context.strokeRect(x, y, boxWidth, boxHeight);
    context.strokeStyle = HIGHLIGHT;
    context.lineWidth = lineWidth;
    context.strokeRect(x, y, boxWidth, boxHeight);
  };

  /** `isFinal`: only the picture and the boxes, for export. */
  const render = (isFinal = false) => {
    context.drawImage(shot, 0, 0);
    boxes.forEach(paint);
    if (isFinal) return;
    if (draft) paint(draft);
    if (isCursorShown) {
      const arm = lineWidth * 6;
      context.fillStyle = HALO;
      context.fillRect(cursor.x - arm - 1, cursor.y - lineWidth, arm * 2 + 2, lineWidth * 2);
      context.fillRect(cursor.x - lineWidth, cursor.y - arm - 1, lineWidth * 2, arm * 2 + 2);
      context.fillStyle = CROSS;
      context.fillRect(cursor.x - arm, cursor.y - lineWidth / 2, arm * 2, lineWidth);
      context.fillRect(cursor.x - lineWidth / 2, cursor.y - arm, lineWidth, arm * 2);
    }
  };

  const refreshControls = () => {
    for (const [name, control] of Object.entries(tools)) control.setAttribute('aria-pressed', String(name === tool));
    undo.disabled = boxes.length === 0;
  };

  const commit = () => {
    if (draft && draft.from.x !== draft.to.x && draft.from.y !== draft.to.y) boxes.push(draft);
    draft = null;
    refreshControls();
    render();
  };

  const clamp = (value: number, max: number) => Math.round(Math.min(max, Math.max(0, value)));
  const toImage = (event: PointerEvent): Point => {
    const box = canvas.getBoundingClientRect();
    return {
      x: clamp(((event.clientX - box.left) / box.width) * width, width),
      y: clamp(((event.clientY - box.top) / box.height) * height, height),
    };
  };

  canvas.addEventListener('pointerdown', (event) => {
    if (event.button !== 0 || isBusy) return;
    event.preventDefault();
    canvas.focus({ preventScroll: true });
    canvas.setPointerCapture(event.pointerId);
    isCursorShown = false;
    const point = toImage(event);
    draft = { tool, from: point, to: point };
    render();
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!draft || !canvas.hasPointerCapture(event.pointerId)) return;
    draft.to = toImage(event);
    render();
  });
  canvas.addEventListener('pointerup', (event) => {
    if (!draft) return;
    draft.to = toImage(event);
    commit();
  });
  canvas.addEventListener('pointercancel', () => {
    draft = null;
    render();
  });

  // Keyboard drawing: a cross moves with the arrow keys; Enter or Space drops
  // one corner and then the other; Escape drops the box being drawn.
  canvas.addEventListener('focus', () => {
    isCursorShown = canvas.matches(':focus-visible');
    render();
  });
  canvas.addEventListener('blur', () => {
    isCursorShown = false;
    draft = null;
    render();
  });
  canvas.addEventListener('keydown', (event) => {
    if (isBusy) return;
    const step = Math.max(1, Math.round(Math.max(width, height) / (event.shiftKey ? 20 : 100)));
    const moves: Record<string, [number, number]> = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    const move = moves[event.key];
    if (move) {
      cursor = { x: clamp(cursor.x + move[0], width), y: clamp(cursor.y + move[1], height) };
      if (draft) draft.to = cursor;
    } else if (event.key === 'Enter' || event.key === ' ') {
      if (draft) commit();
      else draft = { tool, from: cursor, to: cursor };
    } else if (event.key === 'Escape' && draft) {
      // Only the box being drawn is dropped; a second Escape closes the editor.
      draft = null;
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
    isCursorShown = true;
    render();
  });

  return new Promise((resolve) => {
    const shut = openDialog(editor, { 'aria-labelledby': TITLE_ID }, [
      h('div', { class: 'pss-bar' }, [
        h('h2', { id: TITLE_ID, class: 'pss-title' }, [strings['screenshot.title']]),
        h('div', { class: 'pss-tools', role: 'group', 'aria-label': strings['screenshot.tools'] }, [
          h('div', { class: 'pss-seg' }, [tools.highlight, tools.blackout]),
          undo,
        ]),
        h('div', { class: 'pss-actions' }, [cancel, done]),
      ]),
      h('div', { class: 'pss-stage' }, [canvas]),
      h('div', { class: 'pss-foot' }, [h('p', { id: HELP_ID, class: 'pss-help' }, [strings['screenshot.help']]), error]),
    ]);
    const dialog = canvas.closest('dialog')!;
    let isFinished = false;
    const finish = (result: Blob | null) => {
      if (isFinished) return;
      isFinished = true;
      shut();
      resolve(result);
    };

    for (const [name, control] of Object.entries(tools) as [Tool, HTMLButtonElement][]) {
      control.addEventListener('click', () => {
        tool = name;
        refreshControls();
      });
    }
    const undoLast = () => {
      boxes.pop();
      refreshControls();
      render();
    };
    undo.addEventListener('click', undoLast);
    dialog.addEventListener('keydown', (event) => {
      if ((event.ctrlKey || event.metaKey) && !event.shiftKey && event.key.toLowerCase() === 'z') {
        event.preventDefault();
        undoLast();
      }
    });
    cancel.addEventListener('click', () => finish(null));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      if (!isBusy) finish(null);
    });
    done.addEventListener('click', async () => {
      if (isBusy) return;
      isBusy = true;
      dialog.setAttribute('aria-busy', 'true');
      error.hidden = true;
      draft = null;
      render(true);
      try {
        finish(await exportShot(canvas));
      } catch {
        isBusy = false;
        dialog.removeAttribute('aria-busy');
        error.hidden = false;
        render();
      }
    });

    refreshControls();
    render();
    tools.highlight.focus();
  });
}
