/**
 * Where to go after logging in. `return_to` comes from the URL, so anyone can
 * craft it: follow it only when it is a path on this origin (ASVS V3, open
 * redirect). A path must start with exactly one "/"; "//host" and "/\host"
 * are read by browsers as other hosts, and tabs or newlines are stripped by
 * the URL parser (so "/\t/host" would become "//host"), so any control
 * character or backslash is refused outright.
 */
export function safeReturnPath(value: unknown, origin: string = window.location.origin): string {
  const fallback = '/';
  if (typeof value !== 'string' || value.length > 2048) return fallback;
  if (!value.startsWith('/') || value.startsWith('//')) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return fallback;

  let url: URL;
  try {
    url = new URL(value, origin);
  } catch {
    return fallback;
  }
  if (url.origin !== origin) return fallback;
  const path = url.pathname + url.search + url.hash;
  // Going back to the login or setup page after logging in makes no sense.
  if (url.pathname === '/login' || url.pathname === '/setup') return fallback;
  return path;
}
