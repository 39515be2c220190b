import type { Mail } from '../mail/mailer.js';

// Mail about the account's password, second factors and sign-ins, so its
// owner hears of a change or an attack even when someone else caused it. Plain text; the only
// outside values in them (device, IP) are cleaned by their makers.

const utc = (at: Date) => `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
const when = (at: Date) => `When: ${utc(at)}`;

const NOT_YOU = 'If this was not you, reset your password at once and ask an owner of your organization for help.';

export const passwordResetMail = (to: string, link: string, minutes: number): Mail => ({
  to,
  subject: 'Reset your Parley password',
  text:
    `Someone asked to reset the password of your Parley account. To choose a new one, open this link within ${minutes} minutes:\n\n${link}\n\n` +
    'The link works once. If you did not ask for it, ignore this mail: your password stays as it is.\n',
});

export const passwordChangedMail = (to: string, how: 'changed' | 'reset', at: Date): Mail => ({
  to,
  subject: 'Your Parley password was changed',
  text:
    `The password of your Parley account was ${how === 'reset' ? 'reset with a link sent to this address' : 'changed'}. ` +
    `${how === 'reset' ? 'All its sessions were' : 'Its other sessions were'} signed out.\n\n${when(at)}\n\n${NOT_YOU}\n`,
});

export const newDeviceMail = (to: string, device: string, ip: string, at: Date): Mail => ({
  to,
  subject: 'New sign-in to Parley',
  // Sent once the password is right, second factor or not: a stranger who
  // knows the password is news even if the second factor stopped them.
  text: `Your Parley password was just used to sign in from a browser your account has not been used with before.\n\n${when(at)}\nDevice: ${device}\nIP address: ${ip}\n\n${NOT_YOU}\n`,
});

export const accountLockedMail = (to: string, until: Date): Mail => ({
  to,
  subject: 'Your Parley account was locked',
  text:
    'Too many wrong passwords or codes were entered for your Parley account, so signing in to it is paused ' +
    `until ${utc(until)}. The attempts did not get in.\n\n` +
    'If they were not yours, someone may be guessing your password: choose a long, unique one and turn on two-factor sign-in.\n',
});

function factorNotice(to: string, subject: string, what: string, at: Date): Mail {
  return { to, subject, text: `${what}\n\n${when(at)}\n\n${NOT_YOU}\n` };
}

export const factorAddedMail = (to: string, factor: string, at: Date) =>
  factorNotice(to, 'Two-factor sign-in method added', `${factor} was added to your Parley account as a second factor for signing in.`, at);

export const factorRemovedMail = (to: string, factor: string, at: Date) =>
  factorNotice(to, 'Two-factor sign-in method removed', `${factor} was removed from your Parley account. Your other sessions were signed out.`, at);

export const recoveryCodeUsedMail = (to: string, left: number, at: Date) =>
  factorNotice(to, 'A recovery code was used', `One of your recovery codes was used to confirm a sign-in to your Parley account. ${left} unused codes are left.`, at);
