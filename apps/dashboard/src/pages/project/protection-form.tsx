import { useMutation, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { queryKeys } from '../../api/queries';
import { DEFAULT_LIMITS, type CaptchaProvider, type LimitWindow, type Protection, type ProtectionSettings } from '../../api/types';
import { CheckboxField, RadioGroup, type Choice } from '../../components/choice-field';
import { SaveBar } from '../../components/save-bar';
import { SettingsCard } from '../../components/settings-card';
import { TextAreaField, TextField } from '../../components/text-field';
import {
  fromDraft,
  isDraftChanged,
  isThirdParty,
  MAX_ACTION,
  MAX_LINKS,
  MAX_MIN_SECONDS,
  MAX_SECRET,
  MAX_SITE_KEY,
  PROVIDER_NAMES,
  toDraft,
  type DraftField,
  type ProtectionDraft,
  type WindowDraft,
} from '../../lib/protection';

const PROVIDER_CHOICES: Choice<CaptchaProvider>[] = [
  {
    value: 'pow',
    label: `${PROVIDER_NAMES.pow} (recommended)`,
    hint: 'The visitor’s browser solves a small puzzle while they type; harder when one address sends too much. Nothing to click, and no third party sees your visitors.',
  },
  { value: 'recaptcha', label: PROVIDER_NAMES.recaptcha, hint: 'Invisible; Google scores each visitor. Google sees every visitor of the page.' },
  { value: 'turnstile', label: PROVIDER_NAMES.turnstile, hint: 'Usually invisible. Cloudflare sees every visitor who opens the form.' },
  { value: 'hcaptcha', label: PROVIDER_NAMES.hcaptcha, hint: 'Invisible, with a puzzle when in doubt. hCaptcha sees every visitor who sends.' },
  { value: 'none', label: PROVIDER_NAMES.none, hint: 'Only the checks below and the rate limits stop bots.' },
];

/** Where each provider hands out site keys and secrets. */
const PROVIDER_CONSOLES: Partial<Record<CaptchaProvider, string>> = {
  recaptcha: 'the reCAPTCHA admin console (choose “Score based (v3)”)',
  turnstile: 'the Cloudflare dashboard under Turnstile',
  hcaptcha: 'the hCaptcha dashboard under Sites',
};

type Props = {
  orgId: string;
  projectId: string;
  protection: Protection;
  hasIdentitySecret: boolean;
  canEdit: boolean;
  /** Told whenever the form starts or stops holding unsaved changes. */
  onChangedState: (isChanged: boolean) => void;
};

/** Every protection setting of one project, saved together with one PUT (and the captcha secret, if typed, just before). */
export function ProtectionForm({ orgId, projectId, protection, hasIdentitySecret, canEdit, onChangedState }: Props) {
  const queryClient = useQueryClient();
  const saved = protection.settings;
  const [draft, setDraft] = useState(() => toDraft(saved));
  const [isSubmitted, setSubmitted] = useState(false);

  const save = useMutation({
    mutationFn: async ({ settings, secret }: { settings: ProtectionSettings; secret: string | null }) => {
      // The secret first: a provider switch then never runs, even briefly, without its secret.
      if (secret !== null) {
        await api.setCaptchaSecret(orgId, projectId, secret);
        setDraft((d) => ({ ...d, secret: '' }));
        queryClient.setQueryData<Protection>(queryKeys.protection(orgId, projectId), (old) =>
          old === undefined ? old : { ...old, hasCaptchaSecret: true },
        );
      }
      return api.updateProtection(orgId, projectId, settings);
    },
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.protection(orgId, projectId), updated);
      // The project's host-site CSP (Install tab) may follow the bot protection chosen.
      void queryClient.invalidateQueries({ queryKey: queryKeys.project(orgId, projectId), exact: true });
      setDraft(toDraft(updated.settings));
      setSubmitted(false);
    },
  });

  const isChanged = canEdit && isDraftChanged(draft, saved);
  useEffect(() => onChangedState(isChanged), [isChanged, onChangedState]);

  const result = fromDraft(draft);
  const problems = isSubmitted && !result.ok ? result.problems : {};
  const problemOf = (field: DraftField) => problems[field];
  const problemCount = Object.keys(problems).length;

  function change(patch: Partial<ProtectionDraft>) {
    setDraft((d) => ({ ...d, ...patch }));
    save.reset();
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setSubmitted(true);
    if (result.ok) save.mutate({ settings: result.settings, secret: result.secret });
  }

  const { provider } = draft;
  const thirdParty = isThirdParty(provider);
  const savedProvider = saved.captcha.provider;
  const needsSecret = thirdParty && draft.secret.trim() === '' && (!protection.hasCaptchaSecret || (isThirdParty(savedProvider) && savedProvider !== provider));

  return (
    <form className="settings-form" onSubmit={submit} noValidate aria-labelledby="protection-settings-title">
      <h2 id="protection-settings-title" className="visually-hidden">
        Protection settings
      </h2>
      <fieldset className="plain-fieldset" disabled={!canEdit}>
        <SettingsCard title="Bot protection" intro="Each submission must pass this check before anything else is looked at.">
          <RadioGroup legend="Check" name="captcha-provider" value={provider} choices={PROVIDER_CHOICES} onChange={(value) => change({ provider: value })} />
          {provider === 'none' && (
            <p className="notice notice-warning">
              Without a check, a script that copies the widget’s requests can send as much as the rate limits allow.
            </p>
          )}
          {thirdParty && (
            <fieldset className="subfieldset" data-testid="captcha-provider-fields">
              <legend>{PROVIDER_NAMES[provider]}</legend>
              <p className="hint">
                Register your site at {PROVIDER_CONSOLES[provider]} with the same domains as above, then copy its two keys
                here. The widget loads the provider’s script: add the sources listed in <code>docs/widget.md</code> to your
                site’s Content Security Policy.
              </p>
              <div className="field-row">
                <TextField
                  label="Site key"
                  name="captcha-site-key"
                  spellCheck={false}
                  autoCapitalize="off"
                  autoComplete="off"
                  maxLength={MAX_SITE_KEY}
                  value={draft.siteKey}
                  error={problemOf('siteKey')}
                  onChange={(siteKey) => change({ siteKey })}
                  hint="Public: the widget sends it to the provider."
                />
                <SecretField
                  provider={provider}
                  hasSecret={protection.hasCaptchaSecret}
                  canEdit={canEdit}
                  value={draft.secret}
                  error={problemOf('secret')}
                  onChange={(secret) => change({ secret })}
                />
              </div>
              {needsSecret && (
                <p className="notice notice-warning" data-testid="captcha-secret-missing">
                  {protection.hasCaptchaSecret
                    ? `The stored secret belongs to ${PROVIDER_NAMES[savedProvider]}: enter the ${PROVIDER_NAMES[provider]} secret key, or every submission will be refused.`
                    : `Parley cannot check ${PROVIDER_NAMES[provider]} tokens without the secret key: every submission will be refused until you enter it.`}
                </p>
              )}
              <div className="field-row">
                <TextField
                  label="Expected action"
                  name="captcha-action"
                  spellCheck={false}
                  autoCapitalize="off"
                  maxLength={MAX_ACTION}
                  value={draft.action}
                  error={problemOf('action')}
                  onChange={(action) => change({ action })}
                  hint={provider === 'hcaptcha' ? 'hCaptcha does not report actions; kept for the other providers.' : 'The widget names this action; a token made for another one is refused. Default “feedback”.'}
                />
                {provider === 'recaptcha' && (
                  <TextField
                    label="Lowest score accepted"
                    name="captcha-min-score"
                    inputMode="decimal"
                    maxLength={4}
                    value={draft.minScore}
                    error={problemOf('minScore')}
                    onChange={(minScore) => change({ minScore })}
                    hint="From 0 (anyone) to 1 (only the surest humans). Default 0.5, as Google suggests."
                  />
                )}
              </div>
              <CheckboxField
                label="Accept submissions when the provider cannot be reached"
                hint="Off by default: when the provider times out or fails, submissions are refused (captcha_unavailable)."
                checked={draft.failOpen}
                onChange={(failOpen) => change({ failOpen })}
              />
              {draft.failOpen && (
                <p className="notice notice-warning" data-testid="fail-open-warning">
                  While {PROVIDER_NAMES[provider]} is down or blocked on the visitor’s network, submissions get in without
                  any bot check, and an attacker who can make the check fail gets in too. The rate limits still apply.
                </p>
              )}
            </fieldset>
          )}
        </SettingsCard>

        <SettingsCard title="Form checks" intro="Cheap checks in every widget form, whatever the bot protection above.">
          <p className="hint">
            A honeypot is always on: a field people never see, which bots that fill every field fill in (refused as{' '}
            <code>honeypot_filled</code>).
          </p>
          <TextField
            label="Least time before sending (seconds)"
            name="min-seconds"
            inputMode="numeric"
            maxLength={2}
            value={draft.minSeconds}
            error={problemOf('minSeconds')}
            onChange={(minSeconds) => change({ minSeconds })}
            hint={`Time from opening the dialog to sending; faster is refused (too_fast). 0 to ${MAX_MIN_SECONDS}, 0 turns it off. Default 3.`}
          />
        </SettingsCard>

        <SettingsCard title="Signed submissions">
          <CheckboxField
            label="Accept only submissions signed by your site’s backend"
            hint={
              <>
                For sites where visitors sign in. Your server mints a token for the signed-in user with the project’s
                identity secret (an HMAC over the project, the user id and an expiry of at most 10 minutes), and the page
                passes it with <code>Parley.identify({'{ id, token }'})</code>. The project key and a forged Origin are then
                no longer enough to send feedback. The snippets for Node, Python and PHP are under “Signed submissions” in <code>docs/widget.md</code>{' '}
                of your Parley installation.
              </>
            }
            checked={draft.signedSubmissions}
            onChange={(signedSubmissions) => change({ signedSubmissions })}
          />
          {draft.signedSubmissions && !hasIdentitySecret && (
            <p className="notice notice-warning" data-testid="identity-secret-missing">
              This project has no identity secret yet: until you{' '}
              <Link to="/orgs/$orgId/projects/$projectId" params={{ orgId, projectId }} search={{ tab: 'install' }}>
                generate one under Install
              </Link>
              , every submission will be refused.
            </p>
          )}
        </SettingsCard>

        <SettingsCard title="Server submissions">
          <CheckboxField
            label="Accept feedback sent by your own servers"
            hint={
              <>
                Lets your backend (a support form, a mobile app’s server) create feedback in this project through the REST
                API, with an API key that holds <code>feedback_create</code>. The widget is not affected. While this is off,
                such requests are refused with 403 <code>server_submissions_off</code>. How to send them: “Sending feedback
                from your server” in <code>docs/api.md</code> and{' '}
                <a href="/api-reference#post-api-v1-orgs-orgId-projects-projectId-feedback">the API reference</a>.
              </>
            }
            checked={draft.serverSubmissions}
            onChange={(serverSubmissions) => change({ serverSubmissions })}
          />
        </SettingsCard>

        <SettingsCard
          title="Rate limits"
          intro="Beyond a limit, submissions are refused with 429 and a Retry-After, and the widget tells the visitor when to try again."
        >
          <WindowFields
            legend="Per IP address"
            name="per-ip"
            note="IPv6 addresses count per /64 network."
            window={draft.perIp}
            defaults={DEFAULT_LIMITS.perIp}
            problems={[problemOf('perIp.points'), problemOf('perIp.seconds')]}
            onChange={(perIp) => change({ perIp })}
          />
          <WindowFields
            legend="Per visitor"
            name="per-reporter"
            note="A visitor is the signed-in user, else the widget’s session, else the IP address."
            window={draft.perReporter}
            defaults={DEFAULT_LIMITS.perReporter}
            problems={[problemOf('perReporter.points'), problemOf('perReporter.seconds')]}
            onChange={(perReporter) => change({ perReporter })}
          />
          <fieldset className="subfieldset">
            <legend>For the whole project</legend>
            <div className="field-row">
              <TextField
                label="Submissions per minute"
                name="project-per-minute"
                inputMode="numeric"
                value={draft.projectPerMinute}
                error={problemOf('projectPerMinute')}
                onChange={(projectPerMinute) => change({ projectPerMinute })}
                hint={`Default ${DEFAULT_LIMITS.projectPerMinute.toLocaleString()}.`}
              />
              <TextField
                label="Submissions per day"
                name="project-per-day"
                inputMode="numeric"
                value={draft.projectPerDay}
                error={problemOf('projectPerDay')}
                onChange={(projectPerDay) => change({ projectPerDay })}
                hint={`Default ${DEFAULT_LIMITS.projectPerDay.toLocaleString()}.`}
              />
            </div>
          </fieldset>
          <WindowFields
            legend="Proof-of-work puzzles per IP address"
            name="challenges-per-ip"
            note="Puzzles handed out, for the built-in proof of work."
            window={draft.challengesPerIp}
            defaults={DEFAULT_LIMITS.challengesPerIp}
            problems={[problemOf('challengesPerIp.points'), problemOf('challengesPerIp.seconds')]}
            onChange={(challengesPerIp) => change({ challengesPerIp })}
          />
          {canEdit && (
            <div>
              <button
                type="button"
                className="button button-secondary button-small"
                onClick={() =>
                  change({
                    perIp: windowText(DEFAULT_LIMITS.perIp),
                    perReporter: windowText(DEFAULT_LIMITS.perReporter),
                    projectPerMinute: String(DEFAULT_LIMITS.projectPerMinute),
                    projectPerDay: String(DEFAULT_LIMITS.projectPerDay),
                    challengesPerIp: windowText(DEFAULT_LIMITS.challengesPerIp),
                  })
                }
              >
                Use the default limits
              </button>
            </div>
          )}
        </SettingsCard>

        <SettingsCard title="Spam rules" intro="Refused submissions are not stored; the table above counts them.">
          <div className="field-row field-row-3">
            <TextAreaField
              label="Blocked words"
              name="blocked-words"
              rows={4}
              spellCheck={false}
              value={draft.blockedWords}
              error={problemOf('blockedWords')}
              onChange={(blockedWords) => change({ blockedWords })}
              hint="One per line. Whole words in the message or answers, any case."
            />
            <TextAreaField
              label="Blocked e-mail domains"
              name="blocked-email-domains"
              rows={4}
              spellCheck={false}
              autoCapitalize="off"
              placeholder="spam.example"
              value={draft.blockedEmailDomains}
              error={problemOf('blockedEmailDomains')}
              onChange={(blockedEmailDomains) => change({ blockedEmailDomains })}
              hint="One per line; their subdomains too."
            />
            <TextAreaField
              label="Blocked IP ranges"
              name="blocked-ip-ranges"
              rows={4}
              spellCheck={false}
              autoCapitalize="off"
              placeholder="203.0.113.0/24"
              value={draft.blockedIpRanges}
              error={problemOf('blockedIpRanges')}
              onChange={(blockedIpRanges) => change({ blockedIpRanges })}
              hint="One address or CIDR range per line, IPv4 or IPv6."
            />
          </div>
          <TextField
            label="Most links in a message"
            name="max-links"
            inputMode="numeric"
            placeholder="No limit"
            maxLength={3}
            value={draft.maxLinks}
            error={problemOf('maxLinks')}
            onChange={(maxLinks) => change({ maxLinks })}
            hint={`0 to ${MAX_LINKS}; empty for no limit. Default 3.`}
          />
          <CheckboxField
            label="Store identical messages from one visitor once an hour"
            hint="Repeats are answered as sent but not stored again."
            checked={draft.dropDuplicates}
            onChange={(dropDuplicates) => change({ dropDuplicates })}
          />
        </SettingsCard>
      </fieldset>

      {canEdit && (
        <SaveBar save={save} isChanged={isChanged} label="Save protection settings" statusTestId="protection-save-status">
          {problemCount > 0 && (
            <p className="notice notice-error" role="alert">
              {problemCount === 1 ? 'One field needs' : `${problemCount} fields need`} fixing before saving; each says why.
            </p>
          )}
        </SaveBar>
      )}
    </form>
  );
}

const windowText = (limit: LimitWindow): WindowDraft => ({ points: String(limit.points), seconds: String(limit.seconds) });

/** "5 minutes", "1 hour", "90 seconds": a window as people say it. */
function describeSeconds(seconds: number): string {
  const [amount, unit] =
    seconds % 86_400 === 0 ? [seconds / 86_400, 'day'] : seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return `${amount.toLocaleString()} ${unit}${amount === 1 ? '' : 's'}`;
}

type WindowFieldsProps = {
  legend: string;
  name: string;
  note: string;
  window: WindowDraft;
  defaults: LimitWindow;
  problems: [string | undefined, string | undefined];
  onChange: (window: WindowDraft) => void;
};

/** A limit of N requests per S seconds, with its default. */
function WindowFields({ legend, name, note, window, defaults, problems, onChange }: WindowFieldsProps) {
  const seconds = Number(window.seconds);
  return (
    <fieldset className="subfieldset">
      <legend>{legend}</legend>
      <p className="hint">
        {note} Default: {defaults.points.toLocaleString()} per {describeSeconds(defaults.seconds)}.
      </p>
      <div className="field-row">
        <TextField
          label="Requests"
          name={`${name}-points`}
          inputMode="numeric"
          value={window.points}
          error={problems[0]}
          onChange={(points) => onChange({ ...window, points })}
        />
        <TextField
          label="Window (seconds)"
          name={`${name}-seconds`}
          inputMode="numeric"
          value={window.seconds}
          error={problems[1]}
          onChange={(value) => onChange({ ...window, seconds: value })}
          hint={Number.isInteger(seconds) && seconds > 0 && seconds % 60 === 0 ? `${describeSeconds(seconds)}.` : undefined}
        />
      </div>
    </fieldset>
  );
}

/** The write-only captcha secret: typed to store or replace it, never shown. */
function SecretField({ provider, hasSecret, canEdit, value, error, onChange }: {
  provider: CaptchaProvider;
  hasSecret: boolean;
  canEdit: boolean;
  value: string;
  error: string | undefined;
  onChange: (value: string) => void;
}) {
  const status = hasSecret ? 'A secret is stored.' : 'No secret stored yet.';
  if (!canEdit) {
    return (
      <div className="field">
        <span className="field-label">Secret key</span>
        <p data-testid="captcha-secret-status">{status}</p>
      </div>
    );
  }
  return (
    <TextField
      label="Secret key"
      name="captcha-secret"
      type="password"
      autoComplete="off"
      spellCheck={false}
      maxLength={MAX_SECRET}
      placeholder={hasSecret ? 'Stored — type to replace' : ''}
      value={value}
      error={error}
      onChange={onChange}
      hint={
        <>
          <span data-testid="captcha-secret-status">{status}</span> Kept encrypted and never shown again; saving may ask you to
          confirm it is you. From {PROVIDER_NAMES[provider]}’s console.
        </>
      }
    />
  );
}
