import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import { queryKeys, securityQuery } from '../../api/queries';
import type { SecurityPolicy } from '../../api/types';
import { CheckboxField } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { SaveActions } from '../../components/save-bar';
import { OrgFrame } from '../../components/section-nav';
import { TextField } from '../../components/text-field';
import { useOrgAccess } from '../../lib/use-org-access';

const route = getRouteApi('/authenticated/orgs/$orgId/security');

export function OrgSecurityPage() {
  const { orgId } = route.useParams();
  const policy = useQuery(securityQuery(orgId));
  return (
    <OrgFrame orgId={orgId} section="security" title="Security" intro="Sign-in rules for every member of this organization.">
      {policy.isPending ? (
        <p className="muted">Loading the policy…</p>
      ) : policy.isError ? (
        <ErrorNotice error={policy.error} />
      ) : (
        <PolicyForm orgId={orgId} policy={policy.data} />
      )}
    </OrgFrame>
  );
}

/** A whole number from 1 to `max`, or null. */
function wholeNumber(text: string, max: number): number | null {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  return value >= 1 && value <= max ? value : null;
}

function PolicyForm({ orgId, policy }: { orgId: string; policy: SecurityPolicy }) {
  const queryClient = useQueryClient();
  const { can } = useOrgAccess(orgId);
  const canEdit = can('security_write');
  const { idleMinutesMax, absoluteHoursMax } = policy.limits;
  const [requireMfa, setRequireMfa] = useState(policy.requireMfa);
  const [idle, setIdle] = useState(String(policy.sessionIdleMinutes));
  const [absolute, setAbsolute] = useState(String(policy.sessionAbsoluteHours));

  const idleMinutes = wholeNumber(idle, idleMinutesMax);
  const absoluteHours = wholeNumber(absolute, absoluteHoursMax);
  const problems = [
    ...(idleMinutes === null ? [`Idle timeout: a whole number of minutes from 1 to ${idleMinutesMax}.`] : []),
    ...(absoluteHours === null ? [`Longest session: a whole number of hours from 1 to ${absoluteHoursMax}.`] : []),
  ];
  const isChanged =
    requireMfa !== policy.requireMfa ||
    idleMinutes !== policy.sessionIdleMinutes ||
    absoluteHours !== policy.sessionAbsoluteHours;

  const save = useMutation({
    mutationFn: () =>
      api.updateSecurityPolicy(orgId, {
        requireMfa,
        sessionIdleMinutes: idleMinutes!,
        sessionAbsoluteHours: absoluteHours!,
      }),
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.security(orgId), saved);
      // "Requires MFA" is part of the signed-in user's organizations.
      void queryClient.invalidateQueries({ queryKey: queryKeys.me, exact: true });
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (problems.length === 0) save.mutate();
  }

  return (
    <section className="card section" aria-labelledby="policy-title">
      <h2 id="policy-title">Sign-in policy</h2>
      {!canEdit && <p className="notice notice-warning">Only owners can change these rules.</p>}
      <form onSubmit={submit} className="form form-narrow" noValidate>
        <fieldset disabled={!canEdit} className="form">
          <CheckboxField
            label="Require two-factor authentication"
            checked={requireMfa}
            onChange={setRequireMfa}
            hint="Members without an authenticator app or passkey must add one at their next sign-in before they can do anything else."
          />
          <div className="field-row">
            <TextField
              label="Idle timeout (minutes)"
              name="idle-minutes"
              type="number"
              inputMode="numeric"
              min={1}
              max={idleMinutesMax}
              required
              value={idle}
              onChange={setIdle}
              hint={`A session ends after this long without activity. At most ${idleMinutesMax}.`}
            />
            <TextField
              label="Longest session (hours)"
              name="absolute-hours"
              type="number"
              inputMode="numeric"
              min={1}
              max={absoluteHoursMax}
              required
              value={absolute}
              onChange={setAbsolute}
              hint={`Then members sign in again, however active. At most ${absoluteHoursMax}.`}
            />
          </div>
        </fieldset>
        {problems.length > 0 && (
          <div className="notice notice-error" role="alert">
            <ul>
              {problems.map((problem) => (
                <li key={problem}>{problem}</li>
              ))}
            </ul>
          </div>
        )}
        <ErrorNotice error={save.error} />
        {canEdit && (
          <SaveActions save={save} isChanged={isChanged} label="Save policy" disabled={problems.length > 0} />
        )}
      </form>
    </section>
  );
}
