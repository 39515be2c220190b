import { useEffect } from 'react';

/** Names the browser tab after the page, for history and screen readers. */
export function usePageTitle(title: string | null) {
  useEffect(() => {
    document.title = title === null || title === '' ? 'Parley' : `${title} · Parley`;
  }, [title]);
}
