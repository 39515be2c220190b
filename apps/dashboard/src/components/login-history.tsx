import type { InfiniteData, UseInfiniteQueryResult } from '@tanstack/react-query';
import type { HistoryPage, LoginAttempt, User } from '../api/types';
import { formatDateTime, LOGIN_METHOD_LABELS, LOGIN_RESULT_LABELS } from '../lib/format';
import { ErrorNotice } from './error-notice';
import { LoadMore } from './load-more';

/** An organization's history also names the account; a person's own does not. */
type Attempt = LoginAttempt & { user?: User | null };

type Props = {
  query: UseInfiniteQueryResult<InfiniteData<HistoryPage>>;
  showAccount?: boolean;
  emptyText: string;
};

/** Sign-in attempts, newest first, a page at a time. */
export function LoginHistory({ query, showAccount = false, emptyText }: Props) {
  if (query.isPending) return <p className="muted">Loading sign-ins…</p>;
  if (query.isError && !query.isFetchNextPageError) return <ErrorNotice error={query.error} />;
  const items: Attempt[] = query.data?.pages.flatMap((page): Attempt[] => page.items) ?? [];
  if (items.length === 0) {
    return (
      <div className="empty" data-testid="logins-empty">
        <p>{emptyText}</p>
      </div>
    );
  }
  return (
    <>
      <div className="card table-card">
        <table className="table" data-testid="login-history">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Result</th>
              {showAccount && <th scope="col">Account</th>}
              <th scope="col">Method</th>
              <th scope="col">IP address</th>
              <th scope="col">Browser</th>
            </tr>
          </thead>
          <tbody>
            {items.map((attempt) => (
              <tr key={attempt.id}>
                <td className="nowrap">
                  <time dateTime={attempt.at}>{formatDateTime(attempt.at)}</time>
                </td>
                <td>
                  <span className={`badge badge-${attempt.result}`}>{LOGIN_RESULT_LABELS[attempt.result] ?? attempt.result}</span>
                  {attempt.reason !== null && <span className="cell-note">{attempt.reason}</span>}
                </td>
                {showAccount && (
                  <td>
                    {attempt.user == null ? (
                      <>
                        {attempt.email}
                        <span className="cell-note">No such account</span>
                      </>
                    ) : (
                      <>
                        {attempt.user.name}
                        <span className="cell-note">{attempt.user.email}</span>
                      </>
                    )}
                  </td>
                )}
                <td>{LOGIN_METHOD_LABELS[attempt.method] ?? attempt.method}</td>
                <td className="mono">{attempt.ip ?? '—'}</td>
                <td className="user-agent">{attempt.userAgent ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <LoadMore query={query} />
    </>
  );
}
