import { useInfiniteQuery, useMutation, useQuery } from '@tanstack/react-query';
import { getRouteApi } from '@tanstack/react-router';
import { api, orgLoginsCsvUrl, type LoginFilter } from '../../api/client';
import { membersQuery, orgLoginsQuery } from '../../api/queries';
import { LOGIN_METHODS, LOGIN_RESULTS } from '../../api/types';
import { SelectField, type Choice } from '../../components/choice-field';
import { ErrorNotice } from '../../components/error-notice';
import { LoginHistory } from '../../components/login-history';
import { OrgFrame } from '../../components/section-nav';
import { TextField } from '../../components/text-field';
import { dayRange } from '../../lib/day-range';
import { saveFile } from '../../lib/download';
import { LOGIN_METHOD_LABELS, LOGIN_RESULT_LABELS } from '../../lib/format';
import type { LoginSearch } from '../../router';

const route = getRouteApi('/authenticated/orgs/$orgId/logins');

const ANY = { value: '', label: 'Any' } as const;
const RESULT_CHOICES: Choice<string>[] = [ANY, ...LOGIN_RESULTS.map((value) => ({ value, label: LOGIN_RESULT_LABELS[value] }))];
const METHOD_CHOICES: Choice<string>[] = [ANY, ...LOGIN_METHODS.map((value) => ({ value, label: LOGIN_METHOD_LABELS[value] }))];

/** The days picked (local time, both included) as the ISO instants the API filters on. */
function toFilter({ from, to, ...rest }: LoginSearch): LoginFilter {
  return { ...rest, ...dayRange(from, to) };
}

export function OrgLoginsPage() {
  const { orgId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const filter = toFilter(search);
  const logins = useInfiniteQuery(orgLoginsQuery(orgId, filter));
  const members = useQuery(membersQuery(orgId));
  const csvUrl = orgLoginsCsvUrl(orgId, filter);

  // Through the API client, not a plain navigation: the export may ask to confirm it's you first.
  const download = useMutation({
    mutationFn: () => api.downloadOrgLogins(orgId, filter),
    onSuccess: ({ name, file }) => saveFile(name, file),
  });

  const setFilter = (key: keyof LoginSearch, value: string) =>
    void navigate({ search: (previous) => ({ ...previous, [key]: value === '' ? undefined : value }) });

  const userChoices: Choice<string>[] = [
    { value: '', label: 'Anyone' },
    ...(members.data?.items ?? []).map((member) => ({ value: member.userId, label: `${member.name} (${member.email})` })),
  ];

  return (
    <OrgFrame orgId={orgId} section="logins" title="Login history" intro="Sign-in attempts of this organization’s members.">
      <form className="card section filter-bar" aria-label="Filter sign-ins" onSubmit={(event) => event.preventDefault()}>
        <SelectField label="Result" value={search.result ?? ''} choices={RESULT_CHOICES} onChange={(value) => setFilter('result', value)} />
        <SelectField label="Method" value={search.method ?? ''} choices={METHOD_CHOICES} onChange={(value) => setFilter('method', value)} />
        <SelectField label="Member" value={search.userId ?? ''} choices={userChoices} onChange={(value) => setFilter('userId', value)} />
        <TextField label="From" name="from" type="date" value={search.from ?? ''} max={search.to} onChange={(value) => setFilter('from', value)} />
        <TextField label="To" name="to" type="date" value={search.to ?? ''} min={search.from} onChange={(value) => setFilter('to', value)} />
        <div className="filter-actions">
          <a
            href={csvUrl}
            className="button button-secondary"
            download="logins.csv"
            aria-busy={download.isPending}
            onClick={(event) => {
              event.preventDefault();
              if (!download.isPending) download.mutate();
            }}
          >
            {download.isPending ? 'Preparing CSV…' : 'Download CSV'}
          </a>
        </div>
      </form>
      <ErrorNotice error={download.error} />
      <LoginHistory query={logins} showAccount emptyText="No sign-ins match these filters." />
    </OrgFrame>
  );
}
