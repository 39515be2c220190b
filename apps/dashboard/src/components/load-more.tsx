import { BusyButton } from './busy-button';
import { ErrorNotice } from './error-notice';

type Props = {
  /** The parts of an infinite query this needs. */
  query: {
    hasNextPage: boolean;
    isFetchingNextPage: boolean;
    isFetchNextPageError: boolean;
    error: unknown;
    fetchNextPage: () => Promise<unknown>;
  };
};

/** "Load more" under a paged list, and what went wrong loading the next page. */
export function LoadMore({ query }: Props) {
  return (
    <>
      {query.hasNextPage && (
        <div className="load-more">
          <BusyButton
            type="button"
            variant="secondary"
            busy={query.isFetchingNextPage}
            busyLabel="Loading…"
            onClick={() => void query.fetchNextPage()}
          >
            Load more
          </BusyButton>
        </div>
      )}
      <ErrorNotice error={query.isFetchNextPageError ? query.error : null} />
    </>
  );
}
