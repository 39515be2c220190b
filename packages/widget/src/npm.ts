// The @parley/widget module for bundlers: the same API as window.Parley, with
// the dialog, screenshot and protection chunks left to the site's bundler to split.
// Call init({ project, apiOrigin }) first; nothing runs before that.
import { createParley } from './parley.js';
import type { Parley } from './public-types.js';

const parley = createParley({
  session: () => import('./session.js'),
  dialog: () => import('./dialog/app.js'),
  screenshot: () => import('./screenshot/index.js'),
  pow: () => import('./protection/pow.js'),
  captcha: () => import('./protection/captcha.js'),
});

export const init: Parley['init'] = parley.init;
export const open: Parley['open'] = parley.open;
export const close: Parley['close'] = parley.close;
export const on: Parley['on'] = parley.on;
export const off: Parley['off'] = parley.off;
export const identify: Parley['identify'] = parley.identify;
export const setMetadata: Parley['setMetadata'] = parley.setMetadata;
export const destroy: Parley['destroy'] = parley.destroy;

export type * from './public-types.js';
