// Path data for the dialog's icons (24×24, drawn for this widget).
export const CLOSE = 'M6 6l12 12M18 6 6 18';
export const STAR = 'M12 2.6l2.5 6.5 7 .4-5.4 4.4 1.8 6.8L12 16.9l-5.9 3.8 1.8-6.8-5.4-4.4 7-.4z';
export const THUMB = ['M7 10.5v10H4a1 1 0 0 1-1-1v-8a1 1 0 0 1 1-1z', 'M7 10.5l3.6-7.2a2.2 2.2 0 0 1 3.1 2.4L13 9.5h5.6a2 2 0 0 1 2 2.4l-1.5 7a2 2 0 0 1-2 1.6H7'];
export const FACE = ['M12 2.5a9.5 9.5 0 1 0 0 19 9.5 9.5 0 1 0 0-19z', 'M9 9.5v1M15 9.5v1'];
/** Mouths from very unhappy to very happy. */
export const MOUTHS = ['M8 17q4-4.5 8 0', 'M8.5 16.5q3.5-2.5 7 0', 'M8.5 15.5h7', 'M8.5 14.5q3.5 2.5 7 0', 'M8 14q4 5 8 0'];
export const CAMERA = ['M4 7.5h3.2L9 5h6l1.8 2.5H20a1 1 0 0 1 1 1V19a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V8.5a1 1 0 0 1 1-1z', 'M12 10a3.5 3.5 0 1 0 0 7 3.5 3.5 0 1 0 0-7z'];
export const CHECK = 'M6 12.5l4 4 8-9';
