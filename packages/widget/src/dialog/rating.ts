import { h, icon } from '../dom.js';
import type { RatingMode } from '../settings.js';
import { FACE, MOUTHS, STAR, THUMB } from './icons.js';
import type { Translate } from './messages.js';

type Choice = { value: number; content: (Node | string)[]; label?: string };

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, index) => from + index);

// Values per mode are the server's (contract): stars and emoji 1-5, thumbs
// 1 (up) and 0 (down), NPS 0-10.
const CHOICES: Record<Exclude<RatingMode, 'none'>, (t: Translate) => Choice[]> = {
  stars: (t) => range(1, 5).map((value) => ({ value, content: [icon(STAR)], label: t('rating.star', { n: value }) })),
  thumbs: (t) => [
    { value: 1, content: [icon(...THUMB), t('rating.up')] },
    { value: 0, content: [icon(...THUMB), t('rating.down')] },
  ],
  emoji: (t) => range(1, 5).map((value) => ({ value, content: [icon(...FACE, MOUTHS[value - 1]!)], label: t(`rating.emoji${value}` as 'rating.emoji1') })),
  nps: (t) =>
    range(0, 10).map((value) => ({
      value,
      content: [String(value)],
      label: value === 0 ? `0 – ${t('rating.npsLow')}` : value === 10 ? `10 – ${t('rating.npsHigh')}` : undefined,
    })),
};

/**
 * The rating question as a group of real radio buttons: the browser gives
 * arrow-key navigation and screen readers announce "n of m". Each input is
 * visually replaced by the mark after it, but stays focusable.
 */
export function buildRating(mode: RatingMode, t: Translate): HTMLFieldSetElement | null {
  if (mode === 'none') return null;
  const choices = CHOICES[mode](t).map(({ value, content, label }) =>
    h('label', { class: 'choice' }, [h('input', { type: 'radio', name: 'rating', value: String(value), 'aria-label': label }), h('span', { class: 'mark' }, content)]),
  );
  const scale = mode === 'nps' ? [h('div', { class: 'scale', 'aria-hidden': 'true' }, [h('span', {}, [t('rating.npsLow')]), h('span', {}, [t('rating.npsHigh')])])] : [];
  return h('fieldset', { class: `rating ${mode}` }, [h('legend', {}, [t(`rating.${mode}`)]), h('div', { class: 'choices' }, choices), ...scale]);
}
