import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState, type FormEvent } from 'react';
import { api, isApiError } from '../../api/client';
import { queryKeys } from '../../api/queries';
import type { Protection } from '../../api/types';
import { ErrorNotice } from '../../components/error-notice';
import { SaveActions } from '../../components/save-bar';
import { rowKey } from '../../lib/widget-settings';

/** The server's limit (apps/server/src/projects/domains.ts). */
const MAX_DOMAINS = 50;

type Row = { key: number; value: string };

const toRows = (domains: string[]): Row[] => domains.map((value) => ({ key: rowKey(), value }));
const entries = (rows: Row[]) => rows.map((row) => row.value.trim()).filter((value) => value !== '');

type Props = { orgId: string; projectId: string; domains: string[]; canEdit: boolean };

/** The sites whose pages may send feedback, one per row; saved with PATCH …/projects/:id { domains }. */
export function DomainsForm({ orgId, projectId, domains, canEdit }: Props) {
  const id = useId();
  const queryClient = useQueryClient();
  const [rows, setRows] = useState(() => toRows(domains));
  // The row just added takes the focus when it appears, so typing can start at once.
  const focusKey = useRef<number | null>(null);

  const save = useMutation({
    mutationFn: () => api.updateProject(orgId, projectId, { domains: entries(rows) }),
    onSuccess: (updated) => {
      queryClient.setQueryData(queryKeys.project(orgId, projectId), updated);
      queryClient.setQueryData<Protection>(queryKeys.protection(orgId, projectId), (old) =>
        old === undefined ? old : { ...old, domains: updated.domains },
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.projects(orgId), exact: true });
      // The server's normal form: punycode, lower case, no default port.
      setRows(toRows(updated.domains));
    },
  });

  const isChanged = entries(rows).join('\n') !== domains.join('\n');
  // The server names the refused entry in its detail: shown under the list and
  // read with every row (no row is marked, as which one is refused is in the text).
  const fieldError = isApiError(save.error, 'domain_invalid') || isApiError(save.error, 'validation_failed') ? save.error : null;
  const errorId = fieldError === null ? undefined : `${id}-error`;

  function change(next: Row[]) {
    setRows(next);
    save.reset();
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    save.mutate();
  }

  return (
    <section className="card section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Allowed domains</h2>
      <p className="hint" id={`${id}-hint`}>
        Only pages on these sites can show the widget and send feedback; everything else is refused (
        <code>origin_not_allowed</code>). Enter <code>example.com</code>, <code>*.example.org</code> (subdomains, not
        the domain itself) or <code>https://app.example.com:8443</code>. International names may be typed as they read;{' '}
        <code>localhost</code> works only when listed.
      </p>
      <form onSubmit={submit} className="form" noValidate>
        <fieldset className="list-editor" disabled={!canEdit} aria-describedby={errorId}>
          <legend className="visually-hidden">Allowed domains</legend>
          {rows.length === 0 ? (
            <p className="notice notice-warning" data-testid="no-domains">
              No domain is allowed yet: the widget works on no site.
            </p>
          ) : (
            <ol className="domain-rows" data-testid="domain-rows">
              {rows.map((row, index) => (
                <li key={row.key} className="domain-row">
                  <label htmlFor={`${id}-${row.key}`} className="visually-hidden">
                    Allowed domain {index + 1}
                  </label>
                  <input
                    id={`${id}-${row.key}`}
                    ref={(input) => {
                      if (input !== null && focusKey.current === row.key) {
                        focusKey.current = null;
                        input.focus();
                      }
                    }}
                    type="text"
                    name={`domain-${index}`}
                    inputMode="url"
                    spellCheck={false}
                    autoCapitalize="off"
                    autoComplete="off"
                    maxLength={300}
                    placeholder="example.com"
                    aria-describedby={[errorId, `${id}-hint`].filter(Boolean).join(' ')}
                    value={row.value}
                    onChange={(e) => change(rows.map((r) => (r.key === row.key ? { ...r, value: e.target.value } : r)))}
                  />
                  {canEdit && (
                    <button
                      type="button"
                      className="button button-secondary button-small"
                      aria-label={`Remove allowed domain ${index + 1}${row.value.trim() === '' ? '' : ` (${row.value.trim()})`}`}
                      onClick={() => change(rows.filter((r) => r.key !== row.key))}
                    >
                      Remove
                    </button>
                  )}
                </li>
              ))}
            </ol>
          )}
          {fieldError !== null && (
            <p className="field-error" id={errorId} role="alert" data-testid="domains-error">
              {fieldError.detail}
            </p>
          )}
          {canEdit && (
            <div>
              <button
                type="button"
                className="button button-secondary button-small"
                disabled={rows.length >= MAX_DOMAINS}
                onClick={() => {
                  const key = rowKey();
                  focusKey.current = key;
                  change([...rows, { key, value: '' }]);
                }}
              >
                + Add a domain
              </button>
            </div>
          )}
        </fieldset>
        {fieldError === null && <ErrorNotice error={save.error} />}
        {canEdit && (
          <SaveActions save={save} isChanged={isChanged} label="Save domains" />
        )}
      </form>
    </section>
  );
}
