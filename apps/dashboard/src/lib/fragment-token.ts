/**
 * The first-run link is `https://HOST/setup#token=XYZ`: the token travels in
 * the fragment so it never reaches the server's access logs or a Referer
 * header. Read it once, then remove it from the address bar and the history
 * entry so it is not left behind in browser history or a shared screen.
 */
export function takeSetupTokenFromUrl(): string | null {
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
