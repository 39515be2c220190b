import { projectEndpoint } from '../http.js';
import type { Challenge } from '../protection/pow.js';
import type { Runtime } from '../runtime.js';
import { ProofFailure, request, undelivered, type Proof } from './delivery.js';

/** What the front door asks of each attempt: a solved challenge, a captcha token, or nothing. */
export type Prover = {
  /** The dialog opened: a proof-of-work project fetches and solves a challenge now, so solving overlaps typing. */
  prepare(): void;
  /** A proof for one attempt (each is single use). Throws ProofFailure when none can be had. */
  next(): Promise<Proof>;
  stop(): void;
};

/** How one provider makes proofs. */
type Source = Pick<Prover, 'prepare' | 'next'>;
type CaptchaSettings = Runtime['protection']['captcha'];
type ThirdParty = CaptchaSettings & { provider: Exclude<CaptchaSettings['provider'], 'pow' | 'none'> };

/** A challenge expires 5 minutes after it was issued; one solved earlier than this is not sent but replaced. */
const FRESH_MS = 4 * 60_000;

// While offline, a missing chunk or provider script is a network matter and
// sending later may help; online it is the site's (its CSP, say): reported
// with status 0, the widget's own refusal.
const unavailable = (code: string, detail: string) =>
  new ProofFailure(navigator.onLine ? { kind: 'refused', problem: { status: 0, code, detail } } : { kind: 'retry', afterMs: 0 });

async function fetchChallenge({ options }: Runtime): Promise<Challenge> {
  const response = await request(projectEndpoint(options.apiOrigin, options.project, 'challenge'), { cache: 'no-store' });
  if (!response) throw new ProofFailure({ kind: 'retry', afterMs: 0 });
  if (!response.ok) throw new ProofFailure(await undelivered(response));
  return (await response.json()) as Challenge;
}

function proofOfWork(runtime: Runtime, signal: AbortSignal): Source {
  let ready: { solution: Promise<Proof>; fetchedAt: number } | null = null;
  const solve = () => {
    const solution = fetchChallenge(runtime).then(async (challenge) => {
      const { solveChallenge } = await runtime.loadPow().catch(() => {
        throw unavailable('pow_unavailable', 'The proof-of-work code did not load.');
      });
      return { challenge: await solveChallenge(challenge, signal) };
    });
    const started = { solution, fetchedAt: Date.now() };
    // A failed early solve (offline when the dialog opened) is started afresh by next().
    solution.catch(() => {
      if (ready === started) ready = null;
    });
    return started;
  };
  return {
    prepare() {
      ready ??= solve();
    },
    next() {
      const taken = ready && Date.now() - ready.fetchedAt < FRESH_MS ? ready : solve();
      ready = null;
      return taken.solution;
    },
  };
}

/** `container`: where Turnstile and hCaptcha may show themselves when they want the visitor to act (inside the dialog). */
function thirdPartyCaptcha(runtime: Runtime, { provider, siteKey, action }: ThirdParty, container: HTMLElement, signal: AbortSignal): Source {
  const load = () =>
    runtime.loadCaptcha().catch(() => {
      throw unavailable('captcha_unavailable', 'The captcha code did not load.');
    });
  return {
    prepare: () => void load().catch(() => {}),
    async next() {
      if (!siteKey) {
        throw new ProofFailure({ kind: 'refused', problem: { status: 0, code: 'captcha_not_configured', detail: `The project uses ${provider} but has no site key: set it on the project's Protection page.` } });
      }
      const { captchaToken } = await load();
      try {
        return { captcha: await captchaToken({ provider, siteKey, action, nonce: runtime.options.nonce }, container, signal) };
      } catch (error) {
        // Usually the page's CSP blocking the provider's script (docs/captcha.md lists what it needs).
        throw unavailable('captcha_unavailable', `The ${provider} check did not run: ${String(error)}`);
      }
    },
  };
}

/** The project's choice (config `protection.captcha.provider`); stop() abandons a solve or captcha in progress. */
export function createProver(runtime: Runtime, captchaContainer: HTMLElement): Prover {
  const controller = new AbortController();
  const { captcha } = runtime.protection;
  const source: Source =
    captcha.provider === 'pow'
      ? proofOfWork(runtime, controller.signal)
      : captcha.provider === 'none'
        ? { prepare() {}, next: async () => ({}) }
        : thirdPartyCaptcha(runtime, { ...captcha, provider: captcha.provider }, captchaContainer, controller.signal);
  return { ...source, stop: () => controller.abort() };
}
