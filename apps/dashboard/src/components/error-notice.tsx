import { isApiError } from '../api/client';

type Props = {
  error: unknown;
  /** Shown instead of the server's detail when the answer is 404 not_found. */
  notFound?: string;
};

/** Shows the problem's `detail` (never a stack or raw message) as an alert. */
export function ErrorNotice({ error, notFound }: Props) {
  if (error === null || error === undefined) return null;
  return (
    <p className="notice notice-error" role="alert">
      {errorText(error, notFound)}
    </p>
  );
}

function errorText(error: unknown, notFound: string | undefined): string {
  if (!isApiError(error)) return 'Something went wrong. Please try again.';
  if (notFound !== undefined && error.code === 'not_found') return notFound;
  if (error.code === 'too_many_attempts' && error.retryAfterSeconds !== null) {
    // Whole minutes, rounded up: "in 0 minutes" would invite an attempt that is still refused.
    const minutes = Math.max(1, Math.ceil(error.retryAfterSeconds / 60));
    return `Too many attempts. Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`;
  }
  return error.detail;
}
