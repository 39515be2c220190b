import { REQUEST_DEFAULTS, projectEndpoint } from './http.js';
import type { WidgetSettings } from './settings.js';

/**
 * The project's widget settings. A refusal (wrong key, site not in the
 * project's allowed domains) carries no Access-Control-Allow-Origin, so the
 * browser hides it from scripts: it fails like an unreachable server.
 */
export async function fetchSettings(apiOrigin: string, project: string): Promise<WidgetSettings> {
  const response = await fetch(projectEndpoint(apiOrigin, project, 'config'), REQUEST_DEFAULTS);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return ((await response.json()) as { settings: WidgetSettings }).settings;
}
