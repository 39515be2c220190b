import { useState } from 'react';

/**
 * One-time links (`/setup#token=…`, `/reset-password#token=…`,
 * `/invite#token=…`) carry their token in the fragment, so it never reaches
 * the server's access logs or a Referer header. Read it once, then remove it
 * from the address bar and the history entry so it is not left behind in
 * browser history or a shared screen.
 */
function takeTokenFromUrl(): string | null {
  const hash = window.location.hash;
  if (hash.length <= 1) return null;
  const token = new URLSearchParams(hash.slice(1)).get('token');
  window.history.replaceState(
    window.history.state,
    '',
    window.location.pathname + window.location.search,
  );
  return token !== null && token !== '' ? token : null;
}

/**
 * The token is kept in memory only, for the page it came with. React may
 * call a state initializer twice (StrictMode), and the first call has already
 * emptied the fragment, so later calls on the same page reuse what was taken.
 */
let remembered: { path: string; token: string } | null = null;

function takeToken(): string | null {
  const path = window.location.pathname;
  const fresh = takeTokenFromUrl();
  if (fresh !== null) remembered = { path, token: fresh };
  return remembered?.path === path ? remembered.token : null;
}

/** The page's link token (null without one), and a function to forget it once it has been used. */
export function useFragmentToken(): [token: string | null, forget: () => void] {
  const [token] = useState(takeToken);
  return [token, () => (remembered = null)];
}
