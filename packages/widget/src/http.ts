// What every request to Parley shares: no cookies, and no full referrer (the
// host page may allow one, and its query string is the visitor's business).
export const REQUEST_DEFAULTS: RequestInit = { mode: 'cors', credentials: 'omit', referrerPolicy: 'strict-origin' };

/** Throws (TypeError) when apiOrigin is not a URL; a trailing slash or path on it is ignored. */
export function projectEndpoint(apiOrigin: string, project: string, resource: 'config' | 'challenge' | 'feedback' | 'screenshots'): string {
  return new URL(`/api/widget/v1/projects/${encodeURIComponent(project)}/${resource}`, apiOrigin).href;
}
