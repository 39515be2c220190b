import { createHash } from 'node:crypto';
import { blockListOf, isInRanges, parseIpRange } from './ip-ranges.js';
import { AppError } from '../errors.js';
import type { ProtectionSettings } from '../projects/protection.js';

// A project's spam rules, compiled once per project lookup (not per request).

export type SpamRules = {
  /** Refuses an address in a blocked range (checked before the body is read). */
  checkIp(ip: string): void;
  /** Throws the refusal for the first rule the submission breaks. `texts`: the message first, then custom field values. */
  check(submission: { texts: string[]; emails: string[] }): void;
};

const LINK = /\b(?:https?:\/\/|www\.)/gi;
const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileSpamRules(spam: ProtectionSettings['spam']): SpamRules {
  // Whole words or phrases, any case: "casino" blocks "Casino!" but not "occasional".
  const words = spam.blockedWords.length > 0 ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${spam.blockedWords.map(escape).join('|')})(?![\\p{L}\\p{N}])`, 'iu') : null;
  const domains = new Set(spam.blockedEmailDomains);
  // Stored normalised, so every entry parses.
  const ranges = blockListOf(spam.blockedIpRanges.map((range) => parseIpRange(range)!));
  // A blocked domain blocks its subdomains too: mail.spam.example is spam.example's.
  const isBlockedDomain = (email: string) => {
    const labels = email.slice(email.lastIndexOf('@') + 1).toLowerCase().split('.');
    return labels.some((_label, i) => domains.has(labels.slice(i).join('.')));
  };

  return {
    checkIp(ip) {
      if (isInRanges(ranges, ip)) throw new AppError('spam_blocked_ip', 'Feedback from this network is not accepted by this site.');
    },
    check({ texts, emails }) {
      const email = emails.find(isBlockedDomain);
      if (email) throw new AppError('spam_blocked_email', `Feedback from ${email.slice(email.lastIndexOf('@') + 1)} addresses is not accepted by this site.`);
      const blocked = words && texts.map((t) => words.exec(t)).find(Boolean);
      if (blocked) throw new AppError('spam_blocked_word', `The message contains "${blocked[0]}", which this site does not accept.`);
      if (spam.maxLinks !== null) {
        const links = (texts[0] ?? '').match(LINK)?.length ?? 0;
        if (links > spam.maxLinks) throw new AppError('spam_too_many_links', `The message has ${links} links; this site accepts at most ${spam.maxLinks}.`);
      }
    },
  };
}

/** The key under which one reporter's identical message is recognised within the hour. */
export function duplicateKey(projectId: string, reporter: string, message: string): string {
  const normal = message.trim().replace(/\s+/g, ' ').toLowerCase();
  return `dup:${projectId}:${createHash('sha256').update(`${reporter}\n${normal}`).digest('base64url')}`;
}
