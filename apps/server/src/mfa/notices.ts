import type { Mail } from '../mail/mailer.js';

// Notices that a second factor changed or was spent, so the owner of the
// account hears of it even when someone else did it.

const NOT_YOU = 'If this was not you, change your password at once and ask an owner of your organization for help.';

function notice(to: string, subject: string, what: string, at: Date): Mail {
  return { to, subject, text: `${what}\n\nWhen: ${at.toISOString()} (UTC)\n\n${NOT_YOU}\n` };
}

export const factorAddedMail = (to: string, factor: string, at: Date) =>
  notice(to, 'Two-factor sign-in method added', `${factor} was added to your Parley account as a second factor for signing in.`, at);

export const factorRemovedMail = (to: string, factor: string, at: Date) =>
  notice(to, 'Two-factor sign-in method removed', `${factor} was removed from your Parley account. Your other sessions were signed out.`, at);

export const recoveryCodeUsedMail = (to: string, left: number, at: Date) =>
  notice(to, 'A recovery code was used', `One of your recovery codes was used to confirm a sign-in to your Parley account. ${left} unused codes are left.`, at);
