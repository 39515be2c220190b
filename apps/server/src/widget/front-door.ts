import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../errors.js';
import type { IngestProject, Submission } from '../feedback/ingest.js';
import type { CaptchaVerifier } from '../security/captcha.js';
import type { Challenge, Challenges } from '../security/challenge.js';
import { ipRateKey } from '../security/client-ip.js';
import type { ConnectionGuard } from '../security/connection-guard.js';
import type { LimitResult, LimitRule, SharedState } from '../security/shared-state.js';
import { consumeLimit } from '../security/rate-limit.js';
import { duplicateKey } from '../security/spam.js';

// The checks between the internet and the feedback table, cheapest first, so
// a flood is refused before it costs anything: blocked range and per-IP limit
// before the body is read; then the honeypot, the time taken, the reporter's
// limit, the proof of work or captcha and the spam rules (ingestion then
// checks the site's signature or token);
// the project's own budget last, so refused requests do not spend it.

const DUPLICATE_WINDOW_MS = 3_600_000;

export type Visit = { ip: string; origin: string };

const rules = (project: IngestProject) => {
  const { limits } = project.protection;
  return {
    ip: { name: 'ip', ...limits.perIp },
    reporter: { name: 'reporter', ...limits.perReporter },
    projectMinute: { name: 'project-minute', points: limits.projectPerMinute, seconds: 60 },
    projectDay: { name: 'project-day', points: limits.projectPerDay, seconds: 86_400 },
    challenges: { name: 'challenge', ...limits.challengesPerIp },
  } satisfies Record<string, LimitRule>;
};

export class FrontDoor {
  constructor(
    private readonly state: SharedState,
    private readonly challenges: Challenges,
    private readonly captcha: CaptchaVerifier,
    private readonly connections: ConnectionGuard,
  ) {}

  /**
   * Before the body is read: the project's blocked ranges and the per-IP
   * limit (its headers go on every answer). A refused address keeps only a
   * few connections (see ConnectionGuard).
   */
  async admitAddress(project: IngestProject, request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const ip = request.clientIp;
    project.spam.checkIp(ip);
    try {
      await this.consume(rules(project).ip, `${project.id}:${ipRateKey(ip)}`, 'rate_limit_ip', 'Too many requests from your network', reply, true);
    } catch (error) {
      if (error instanceof AppError && error.code === 'rate_limit_ip') this.connections.refused(request.socket, error.retryAfter ?? 1);
      throw error;
    }
  }

  /** A proof-of-work challenge, harder for an address or project over its normal rate. */
  async issueChallenge(project: IngestProject, ip: string, reply: FastifyReply): Promise<Challenge> {
    if (project.protection.captcha.provider !== 'pow') throw new AppError('not_found', 'This project does not use the built-in proof of work.');
    const all = rules(project);
    const fromIp = await this.consume(all.challenges, `${project.id}:${ipRateKey(ip)}`, 'rate_limit_challenge', 'Too many challenges from your network', reply);
    const projectMinute = await this.state.peek(all.projectMinute, project.id);
    const isBusy = fromIp.consumed > all.challenges.points / 4 || projectMinute.consumed > all.projectMinute.points / 2;
    return this.challenges.issue(project.id, isBusy ? 'raised' : 'normal');
  }

  /**
   * Everything about one submission except the project's budget. Returns the
   * reporter key, which the duplicate check uses.
   */
  async checkSubmission(project: IngestProject, submission: Submission, visit: Visit, reply: FastifyReply): Promise<string> {
    const { protection } = project;
    if (submission.honeypot) throw new AppError('honeypot_filled', 'This looks like an automated submission.');
    if (protection.minSeconds > 0 && (submission.elapsedMs ?? 0) < protection.minSeconds * 1000) {
      throw new AppError('too_fast', 'That was quick: please take a moment to write your feedback, then send it again.');
    }
    const reporter = submission.reporter ?? ipRateKey(visit.ip);
    await this.consume(rules(project).reporter, `${project.id}:${reporter}`, 'rate_limit_reporter', 'You have sent a lot of feedback', reply);
    await this.checkHuman(project, submission, visit);
    this.checkSpam(project, submission);
    return reporter;
  }

  /** The project's spam rules: blocked words, e-mail domains, too many links. */
  checkSpam(project: IngestProject, submission: Pick<Submission, 'message' | 'custom' | 'email' | 'identity'>): void {
    project.spam.check({
      texts: [submission.message, ...Object.values(submission.custom ?? {})],
      emails: [submission.email, submission.identity?.email].filter((email) => email !== undefined),
    });
  }

  /**
   * The last step before storing: the earlier feedback's id when this
   * reporter sent the same message within the hour, else the project's budget
   * per minute and per day is spent and null returned. A retry of the first
   * submission itself (same Idempotency-Key) goes on to be stored, since the
   * first attempt may have failed after it was remembered here.
   */
  async admit(project: IngestProject, reporter: string, submission: Submission, attempt: { id: string; idempotencyKey: string | undefined }, reply: FastifyReply): Promise<string | null> {
    if (project.protection.spam.dropDuplicates) {
      const mark = `${attempt.id} ${attempt.idempotencyKey ?? ''}`;
      const earlier = await this.state.putIfAbsent(duplicateKey(project.id, reporter, submission.message), mark, DUPLICATE_WINDOW_MS);
      if (earlier !== null) {
        const [earlierId = '', earlierKey] = earlier.split(' ');
        if (attempt.idempotencyKey === undefined || earlierKey !== attempt.idempotencyKey) return earlierId;
      }
    }
    await this.spendBudget(project, reply);
    return null;
  }

  /** One submission from the project's budget per minute and per day (widget and server submissions share it). */
  async spendBudget(project: IngestProject, reply: FastifyReply): Promise<void> {
    const all = rules(project);
    const busy = 'This site is receiving a lot of feedback right now';
    await this.consume(all.projectMinute, project.id, 'rate_limit_project', busy, reply);
    await this.consume(all.projectDay, project.id, 'rate_limit_project', busy, reply);
  }

  private async checkHuman(project: IngestProject, submission: Submission, visit: Visit): Promise<void> {
    const { captcha } = project.protection;
    if (captcha.provider === 'none') return;
    if (captcha.provider === 'pow') {
      if (submission.challenge === undefined) throw new AppError('challenge_missing', 'The widget must solve a proof-of-work challenge first (GET …/challenge).');
      await this.challenges.verify(project.id, submission.challenge);
      return;
    }
    if (submission.captcha === undefined) throw new AppError('captcha_missing', 'This site asks for a captcha, and none was sent.');
    if (!project.captchaSecret) throw new AppError('captcha_unavailable', 'The site has not stored its captcha secret yet.');
    await this.captcha.verify({
      provider: captcha.provider,
      secret: project.captchaSecret,
      token: submission.captcha,
      remoteIp: visit.ip,
      // Providers report an IPv6 host without the URL's brackets.
      expectedHostname: new URL(visit.origin).hostname.replace(/^\[(.*)\]$/, '$1'),
      expectedAction: captcha.action,
      minScore: captcha.minScore,
      failOpen: captcha.failOpen,
      siteKey: captcha.siteKey,
    });
  }

  /**
   * Consumes one point; over the limit, answers 429 with Retry-After and
   * RateLimit-* headers. `isShown`: the limit's headers go on answers that
   * pass too (one limit only, the per-IP one, so the headers mean one thing).
   */
  private consume(rule: LimitRule, key: string, code: ErrorCode, what: string, reply: FastifyReply, isShown = false): Promise<LimitResult> {
    return consumeLimit(this.state, rule, key, { code, what }, reply, isShown);
  }
}
