import { isApiError } from '../api/client';

type Props = {
  error: unknown;
  /** Shown instead of the server's detail when the answer is 404 not_found. */
  notFound?: string;
};

/** Shows the problem's `detail` (never a stack or raw message) as an alert. */
export function ErrorNotice({ error, notFound }: Props) {
  if (error === null || error === undefined) return null;
  let text = 'Something went wrong. Please try again.';
  if (isApiError(error)) {
    text = notFound !== undefined && error.code === 'not_found' ? notFound : error.detail;
  }
  return (
    <p className="notice notice-error" role="alert">
      {text}
    </p>
  );
}
