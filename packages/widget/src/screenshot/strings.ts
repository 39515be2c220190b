// English defaults for the screenshot editor. The dialog passes translations
// by the same keys; any key it leaves out falls back to these.
export const SCREENSHOT_STRINGS = {
  'screenshot.title': 'Mark up the screenshot',
  'screenshot.tools': 'Drawing tools',
  'screenshot.highlight': 'Highlight',
  'screenshot.blackout': 'Black out',
  'screenshot.undo': 'Undo',
  'screenshot.cancel': 'Cancel',
  'screenshot.done': 'Done',
  'screenshot.canvas': 'Screenshot. Draw boxes to highlight or hide parts of it.',
  'screenshot.help':
    'Drag over the screenshot to draw a box. With the keyboard: arrow keys move the cross (Shift for bigger steps), Enter starts and finishes a box.',
  'screenshot.failed': 'The screenshot could not be taken.',
  'screenshot.close': 'Close',
} as const;

export type ScreenshotStringKey = keyof typeof SCREENSHOT_STRINGS;
export type ScreenshotStrings = Record<ScreenshotStringKey, string>;
