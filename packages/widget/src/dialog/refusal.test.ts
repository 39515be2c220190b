// What a visitor reads when Parley refuses or rate-limits a feedback: the
// wait in words in each built-in language, and no hint for a bot about which
// check caught it.
import { describe, expect, it } from 'vitest';
import type { Locale } from '../locale.js';
import type { Runtime } from '../runtime.js';
import { createTranslator } from './messages.js';
import { limitText, refusalText } from './refusal.js';

const translator = (locale: Locale) => createTranslator({ locale, settings: { texts: {} }, options: {} } as Runtime);
const problem = (code: string, status = 429) => ({ status, code, detail: `detail of ${code}` });

describe('limitText', () => {
  it('tells a visitor who sent too much when to try again, in each language', () => {
    const threeMinutes = 180_000;
    expect(limitText(threeMinutes, problem('rate_limit_reporter'), translator('en'), 'en')).toBe('You have sent a lot of feedback in a short time. Please try again in 3 minutes.');
    expect(limitText(threeMinutes, problem('rate_limit_reporter'), translator('de'), 'de')).toBe('Sie haben in kurzer Zeit viel Feedback gesendet. Bitte versuchen Sie es in 3 Minuten noch einmal.');
    expect(limitText(threeMinutes, problem('rate_limit_ip'), translator('fr'), 'fr')).toBe('Vous avez envoyé beaucoup d’avis en peu de temps. Veuillez réessayer dans 3 minutes.');
    expect(limitText(threeMinutes, problem('rate_limit_ip'), translator('es'), 'es')).toBe('Has enviado muchos comentarios en poco tiempo. Inténtalo de nuevo dentro de 3 minutos.');
  });

  it("does not blame the visitor for the project's or the challenge limit", () => {
    for (const code of ['rate_limit_project', 'rate_limit_challenge']) {
      expect(limitText(60_000, problem(code), translator('en'), 'en')).toBe('We are receiving a lot of feedback right now. Please try again in 1 minute.');
    }
    expect(limitText(60_000, problem('rate_limit_project'), translator('de'), 'de')).toBe('Wir erhalten gerade sehr viel Feedback. Bitte versuchen Sie es in 1 Minute noch einmal.');
  });

  it('rounds the wait up to seconds, minutes or hours', () => {
    const en = translator('en');
    const when = (ms: number) => limitText(ms, problem('rate_limit_project'), en, 'en').replace('We are receiving a lot of feedback right now. Please try again ', '');
    expect([when(400), when(45_000), when(61_000), when(3_599_000), when(3_600_000), when(5_400_000)]).toEqual([
      'in 1 second.',
      'in 45 seconds.',
      'in 2 minutes.',
      'in 60 minutes.',
      'in 1 hour.',
      'in 2 hours.',
    ]);
  });

  it("uses the site owner's text when it replaces the built-in one", () => {
    const t = createTranslator({ locale: 'en', settings: { texts: { 'error.tooMuch': 'Slow down, try {when}.' } }, options: {} } as unknown as Runtime);
    expect(limitText(120_000, problem('rate_limit_reporter'), t, 'en')).toBe('Slow down, try in 2 minutes.');
  });
});

describe('refusalText', () => {
  it('shows a generic text for the honeypot and the minimum time, so no bot learns which check caught it', () => {
    for (const code of ['honeypot_filled', 'too_fast']) expect(refusalText(problem(code, 400), translator('en'))).toBe('Something went wrong. Please try again.');
  });

  it("shows a generic text for the widget's own refusals (the site owner gets the detail through the error event)", () => {
    expect(refusalText({ status: 0, code: 'captcha_unavailable', detail: 'The recaptcha check did not run: blocked' }, translator('en'))).toBe('Something went wrong. Please try again.');
  });

  it("shows the server's reason for other refusals", () => {
    expect(refusalText(problem('captcha_failed', 403), translator('en'))).toBe('detail of captcha_failed');
  });
});
