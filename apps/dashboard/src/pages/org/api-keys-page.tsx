import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getRouteApi, Link } from '@tanstack/react-router';
import { useState, type FormEvent } from 'react';
import { api, type ApiKeyStatus } from '../../api/client';
import { apiKeysQuery, permissionsQuery, projectsQuery, queryKeys } from '../../api/queries';
import { API_SCOPES, type ApiKey, type ApiScope, type NewApiKey, type OrgRole, type Permissions, type Project } from '../../api/types';
import { ActionButton } from '../../components/action-button';
import { BusyButton } from '../../components/busy-button';
import { CheckboxField, RadioGroup, SelectField, type Choice } from '../../components/choice-field';
import { CopyButton } from '../../components/copy-button';
import { ErrorNotice } from '../../components/error-notice';
import { LoadMore } from '../../components/load-more';
import { ProjectScopeField } from '../../components/project-scope-field';
import { RevealBox } from '../../components/reveal-box';
import { OrgFrame } from '../../components/section-nav';
import { TextAreaField, TextField } from '../../components/text-field';
import { dayRange } from '../../lib/day-range';
import { formatDateTime, projectScopeText } from '../../lib/format';
import { isIpRange } from '../../lib/ip-range';
import { useOrgAccess } from '../../lib/use-org-access';

const route = getRouteApi('/authenticated/orgs/$orgId/api-keys');

export function ApiKeysPage() {
  const { orgId } = route.useParams();
  const { membership } = useOrgAccess(orgId);
  return (
    <OrgFrame
      orgId={orgId}
      section="api-keys"
      title="API keys"
      intro="Keys that let your scripts and services use the REST API."
      requires={{ permission: 'apikeys_write', otherwise: 'Only owners and admins manage API keys.' }}
    >
      <KeyList orgId={orgId} />
      {membership !== null && <CreateKey orgId={orgId} role={membership.role} />}
    </OrgFrame>
  );
}

const STATUS_CHOICES: Choice<ApiKeyStatus | ''>[] = [
  { value: '', label: 'All keys' },
  { value: 'active', label: 'Active' },
  { value: 'expired', label: 'Expired' },
  { value: 'revoked', label: 'Revoked' },
];

const STATUS_BADGES: Record<ApiKey['status'], { label: string; badge: string }> = {
  active: { label: 'Active', badge: 'badge-success' },
  expired: { label: 'Expired', badge: 'badge-archived' },
  revoked: { label: 'Revoked', badge: 'badge-failure' },
};

const REVOKE_REASONS: Record<NonNullable<ApiKey['revokedReason']>, string> = {
  revoked: 'by hand',
  creator_removed: 'its creator left the organization',
  creator_demoted: 'its creator’s new role allows none of its scopes',
};

function KeyList({ orgId }: { orgId: string }) {
  const [status, setStatus] = useState<ApiKeyStatus | ''>('');
  const keys = useInfiniteQuery(apiKeysQuery(orgId, status === '' ? null : status));
  const projects = useQuery(projectsQuery(orgId));
  const items = keys.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <section className="card section" aria-labelledby="keys-title">
      <div className="section-head">
        <h2 id="keys-title">Keys</h2>
        <SelectField label="Show" value={status} choices={STATUS_CHOICES} onChange={setStatus} />
      </div>
      {keys.isPending ? (
        <p className="muted">Loading keys…</p>
      ) : keys.isError && !keys.isFetchNextPageError ? (
        <ErrorNotice error={keys.error} />
      ) : items.length === 0 ? (
        <p className="muted" data-testid="api-keys-empty">
          {status === '' ? 'No API keys yet.' : 'No keys with this status.'}
        </p>
      ) : (
        <>
          <table className="table table-stack" data-testid="api-keys">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">May do</th>
                <th scope="col">Expires</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((key) => (
                <KeyRow key={key.id} orgId={orgId} apiKey={key} projects={projects.data?.items} />
              ))}
            </tbody>
          </table>
          <LoadMore query={keys} />
        </>
      )}
    </section>
  );
}

function KeyRow({ orgId, apiKey, projects }: { orgId: string; apiKey: ApiKey; projects: Project[] | undefined }) {
  const queryClient = useQueryClient();
  const status = STATUS_BADGES[apiKey.status];
  return (
    <tr>
      <td data-label="Key" className="cell-wide">
        {apiKey.name}
        <span className="cell-note mono nowrap">{apiKey.prefix}…</span>
      </td>
      <td data-label="May do" className="cell-wide">
        <ul className="code-list" aria-label="Scopes">
          {apiKey.scopes.map((scope) => (
            <li key={scope}>
              <code>{scope}</code>
            </li>
          ))}
        </ul>
        <span className="cell-note">{projectScopeText(apiKey.projectIds, projects)}</span>
        <span className="cell-note">{apiKey.allowedIps.length === 0 ? 'From any address' : `From ${apiKey.allowedIps.join(', ')}`}</span>
      </td>
      <td data-label="Expires" className="nowrap">
        {apiKey.expiresAt === null ? 'Never' : formatDateTime(apiKey.expiresAt)}
      </td>
      <td data-label="Created">
        <span className="nowrap">{formatDateTime(apiKey.createdAt)}</span>
        <span className="cell-note">by {apiKey.createdBy?.name ?? 'a former member'}</span>
      </td>
      <td data-label="Last used">
        {apiKey.lastUsedAt === null ? (
          'Never'
        ) : (
          <>
            <span className="nowrap">{formatDateTime(apiKey.lastUsedAt)}</span>
            {apiKey.lastUsedIp !== null && <span className="cell-note mono">from {apiKey.lastUsedIp}</span>}
          </>
        )}
      </td>
      <td data-label="Status">
        <span className={`badge ${status.badge}`}>{status.label}</span>
        {apiKey.revokedAt !== null && (
          <span className="cell-note">
            {formatDateTime(apiKey.revokedAt)}
            {apiKey.revokedReason !== null && `, ${REVOKE_REASONS[apiKey.revokedReason]}`}
          </span>
        )}
      </td>
      <td className="cell-actions">
        {apiKey.status === 'active' && (
          <ActionButton
            label="Revoke"
            busyLabel="Revoking…"
            run={async () => {
              await api.revokeApiKey(orgId, apiKey.id);
              await queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys(orgId) });
            }}
            confirm={{
              question: `Revoke “${apiKey.name}”? Whatever uses it is refused from its next request on. This cannot be undone.`,
              confirmLabel: 'Revoke key',
            }}
          />
        )}
      </td>
    </tr>
  );
}

/** How the scopes are grouped on the form, by the start of their name. */
const SCOPE_GROUPS = [
  { title: 'Organization and members', prefixes: ['org', 'members'] },
  { title: 'Projects', prefixes: ['project'] },
  { title: 'Feedback and labels', prefixes: ['feedback', 'labels'] },
  { title: 'Webhooks', prefixes: ['webhooks'] },
  { title: 'Audit log', prefixes: ['audit'] },
];

/** The scopes `role` may give a key, in groups, each with the role table's description. */
function scopeGroups(table: Permissions, role: OrgRole) {
  const allowed = API_SCOPES.filter((scope) => table.permissions.find((p) => p.id === scope)?.roles.includes(role) ?? false);
  const describe = (scope: ApiScope) => table.permissions.find((p) => p.id === scope)?.description ?? '';
  const groupOf = (scope: ApiScope) => SCOPE_GROUPS.findIndex((group) => group.prefixes.includes(scope.split('_')[0]!));
  return [...SCOPE_GROUPS, { title: 'Other', prefixes: [] }]
    .map((group, index) => ({
      title: group.title,
      scopes: allowed
        .filter((scope) => (groupOf(scope) === -1 ? index === SCOPE_GROUPS.length : groupOf(scope) === index))
        .map((scope) => ({ scope, description: describe(scope) })),
    }))
    .filter((group) => group.scopes.length > 0);
}

type Expiry = '30' | '90' | '365' | 'date' | 'never';

const EXPIRY_CHOICES: Choice<Expiry>[] = [
  { value: '30', label: 'In 30 days' },
  { value: '90', label: 'In 90 days' },
  { value: '365', label: 'In a year' },
  { value: 'date', label: 'On a date' },
  { value: 'never', label: 'Never' },
];

const DAY_MS = 24 * 60 * 60 * 1000;

/** A day `days` from today, as a date input takes it (local time). */
function dayFromToday(days: number): string {
  const date = new Date(Date.now() + days * DAY_MS);
  return `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
}

/** When the key stops working: N days from now, the end of the chosen day (local time), or never. */
function expiresAt(expiry: Expiry, day: string): string | null {
  if (expiry === 'never') return null;
  if (expiry === 'date') return dayRange(undefined, day).to ?? null;
  return new Date(Date.now() + Number(expiry) * DAY_MS).toISOString();
}

/** Allowed IP addresses are typed one per line. */
const linesOf = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');

const MAX_ALLOWED_IPS = 50;

function CreateKey({ orgId, role }: { orgId: string; role: OrgRole }) {
  const queryClient = useQueryClient();
  const table = useQuery(permissionsQuery);
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<ApiScope[]>([]);
  const [projectIds, setProjectIds] = useState<string[] | null>(null);
  const [ips, setIps] = useState('');
  const [expiry, setExpiry] = useState<Expiry>('90');
  const [day, setDay] = useState('');
  const [isTried, setTried] = useState(false);

  // gcTime 0: the key lives in this card's state only, until "Done".
  const create = useMutation({
    mutationFn: () =>
      api.createApiKey(orgId, {
        name: name.trim(),
        scopes: API_SCOPES.filter((scope) => scopes.includes(scope)),
        projectIds,
        allowedIps: linesOf(ips),
        expiresAt: expiresAt(expiry, day),
      }),
    gcTime: 0,
    onSuccess: () => {
      setName('');
      setScopes([]);
      setProjectIds(null);
      setIps('');
      setExpiry('90');
      setDay('');
      setTried(false);
      void queryClient.invalidateQueries({ queryKey: queryKeys.apiKeys(orgId) });
    },
  });

  const badIps = linesOf(ips).filter((line) => !isIpRange(line));
  const problems = {
    name: name.trim() === '' ? 'Give the key a name: what it is for.' : undefined,
    scopes: scopes.length === 0 ? 'Choose at least one thing the key may do.' : undefined,
    projects: projectIds !== null && projectIds.length === 0 ? 'Choose at least one project, or all projects.' : undefined,
    ips:
      badIps.length > 0
        ? `Not an IP address or CIDR range: ${badIps.slice(0, 3).join(', ')}${badIps.length > 3 ? ', …' : ''}.`
        : linesOf(ips).length > MAX_ALLOWED_IPS
          ? `At most ${MAX_ALLOWED_IPS} addresses or ranges.`
          : undefined,
    day: expiry === 'date' && day === '' ? 'Pick the day the key stops working.' : undefined,
  };
  const isValid = Object.values(problems).every((problem) => problem === undefined);
  const shown = (problem: string | undefined) => (isTried ? problem : undefined);

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setTried(true);
    if (isValid) create.mutate();
  }

  return (
    <section className="card section" aria-labelledby="create-key-title">
      <h2 id="create-key-title">Create an API key</h2>
      {create.data !== undefined ? (
        <CreatedKey orgId={orgId} created={create.data} onDone={() => create.reset()} />
      ) : (
        <form onSubmit={submit} className="form form-narrow" noValidate>
          <TextField
            label="Name"
            name="key-name"
            autoComplete="off"
            maxLength={100}
            required
            value={name}
            onChange={setName}
            error={shown(problems.name)}
            hint="What uses it, e.g. “CRM sync” or “CI release notes”."
          />
          <fieldset className="scope-groups" aria-describedby="scopes-hint">
            <legend>What it may do</legend>
            <p className="hint" id="scopes-hint">
              Only what your role may do. Give a key no more than its job needs.
            </p>
            {table.isPending ? (
              <p className="muted">Loading scopes…</p>
            ) : table.isError ? (
              <ErrorNotice error={table.error} />
            ) : (
              scopeGroups(table.data, role).map((group) => (
                <fieldset key={group.title} className="subfieldset check-list">
                  <legend>{group.title}</legend>
                  {group.scopes.map(({ scope, description }) => (
                    <CheckboxField
                      key={scope}
                      label={description}
                      hint={<code>{scope}</code>}
                      checked={scopes.includes(scope)}
                      onChange={(isChecked) => setScopes(isChecked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
                    />
                  ))}
                </fieldset>
              ))
            )}
            {shown(problems.scopes) !== undefined && <p className="field-error">{problems.scopes}</p>}
          </fieldset>
          <ProjectScopeField orgId={orgId} value={projectIds} onChange={setProjectIds} />
          {shown(problems.projects) !== undefined && <p className="field-error">{problems.projects}</p>}
          <TextAreaField
            label="Allowed IP addresses"
            name="allowed-ips"
            rows={3}
            spellCheck={false}
            value={ips}
            onChange={setIps}
            error={problems.ips}
            hint="One address or CIDR range per line (203.0.113.7, 10.0.0.0/8, 2001:db8::/32). Empty: from anywhere."
          />
          <RadioGroup legend="Expires" name="key-expiry" inline value={expiry} choices={EXPIRY_CHOICES} onChange={setExpiry} />
          {expiry === 'never' && (
            <p className="notice notice-warning">Not recommended: a key that leaks keeps working until someone revokes it.</p>
          )}
          {expiry === 'date' && (
            <TextField
              label="Last day it works"
              name="key-expiry-day"
              type="date"
              min={dayFromToday(1)}
              max={dayFromToday(365)}
              value={day}
              onChange={setDay}
              error={shown(problems.day)}
            />
          )}
          <ErrorNotice error={create.error} />
          <div className="form-actions">
            <BusyButton busy={create.isPending} busyLabel="Creating…">
              Create API key
            </BusyButton>
          </div>
        </form>
      )}
    </section>
  );
}

/** The new key, once: copy it, see how to use it, then it is gone. */
function CreatedKey({ orgId, created, onDone }: { orgId: string; created: NewApiKey; onDone: () => void }) {
  const example = curlExample(orgId, created);
  return (
    <div data-testid="api-key-created">
      <RevealBox
        label={`API key “${created.key.name}”`}
        value={created.token}
        testId="api-key-token"
        copyLabel="Copy key"
        note="Store it now, in your secret manager: it will not be shown again. Lost keys cannot be recovered, only revoked and replaced."
        doneLabel="I have stored it"
        onDone={onDone}
      >
        <div>
          <div className="snippet-head">
            <span className="field-label" id="key-example-label">
              Try it
            </span>
            <CopyButton text={example} label="Copy command" />
          </div>
          <pre className="code" aria-labelledby="key-example-label" tabIndex={0} data-testid="api-key-example">
            {example}
          </pre>
          <p className="hint">
            Send the key only in the <code>Authorization</code> header, never in a URL. Every operation is on the{' '}
            <Link to="/api-reference">API reference</Link>.
          </p>
        </div>
      </RevealBox>
    </div>
  );
}

/** A first request the key may make: its projects, its feedback, or (any key) its organization. */
function curlExample(orgId: string, created: NewApiKey): string {
  const base = `${window.location.origin}/api/v1`;
  const path = created.key.scopes.includes('project_read')
    ? `/orgs/${orgId}/projects`
    : created.key.scopes.includes('feedback_read')
      ? `/orgs/${orgId}/feedback`
      : '/orgs';
  return `curl -H "Authorization: Bearer ${created.token}" \\\n  ${base}${path}`;
}
