export type RefusalGroup = 'Domains' | 'Rate limits' | 'Bot protection' | 'Signed submissions' | 'Spam rules';

/** What each refusal code of the ingestion endpoint means to a site owner, and which protection gave it. */
export const REFUSAL_REASONS: Record<string, { label: string; group: RefusalGroup }> = {
  origin_missing: { label: 'No Origin header (not sent by a web page)', group: 'Domains' },
  origin_not_allowed: { label: 'Sent from a site not in the allowed domains', group: 'Domains' },
  rate_limit_ip: { label: 'Too many from one IP address', group: 'Rate limits' },
  rate_limit_reporter: { label: 'Too many from one visitor', group: 'Rate limits' },
  rate_limit_project: { label: 'Project limit per minute or day reached', group: 'Rate limits' },
  rate_limit_challenge: { label: 'Too many proof-of-work puzzles asked by one IP address', group: 'Rate limits' },
  challenge_missing: { label: 'Proof of work missing', group: 'Bot protection' },
  challenge_invalid: { label: 'Proof of work wrong or tampered with', group: 'Bot protection' },
  challenge_expired: { label: 'Proof of work expired (older than 5 minutes)', group: 'Bot protection' },
  challenge_replayed: { label: 'Proof of work used a second time', group: 'Bot protection' },
  challenge_wrong_project: { label: 'Proof of work made for another project', group: 'Bot protection' },
  captcha_missing: { label: 'Captcha token missing', group: 'Bot protection' },
  captcha_failed: { label: 'Captcha not passed (refused, low score, wrong action or site)', group: 'Bot protection' },
  captcha_unavailable: { label: 'Captcha provider could not be reached', group: 'Bot protection' },
  honeypot_filled: { label: 'Hidden honeypot field filled in', group: 'Bot protection' },
  too_fast: { label: 'Sent faster than the minimum time', group: 'Bot protection' },
  submission_token_missing: { label: 'Signed-submission token missing', group: 'Signed submissions' },
  submission_token_invalid: { label: 'Signed-submission token not valid', group: 'Signed submissions' },
  submission_token_expired: { label: 'Signed-submission token expired', group: 'Signed submissions' },
  spam_blocked_word: { label: 'Message contains a blocked word', group: 'Spam rules' },
  spam_blocked_email: { label: 'E-mail address at a blocked domain', group: 'Spam rules' },
  spam_blocked_ip: { label: 'IP address in a blocked range', group: 'Spam rules' },
  spam_too_many_links: { label: 'Too many links in the message', group: 'Spam rules' },
};

/** A code this dashboard does not know yet (a newer server) is shown as it is. */
export const refusalReason = (code: string) => REFUSAL_REASONS[code] ?? { label: code, group: null };
