import { REQUEST_DEFAULTS, projectEndpoint } from './http.js';
import type { WidgetProtection, WidgetSettings } from './settings.js';

/** What GET .../config answers: how the widget looks and which protections it takes part in. */
export type ProjectConfig = { settings: WidgetSettings; protection: WidgetProtection };

/**
 * The project's widget settings and protections. A refusal (wrong key, site not in the
 * project's allowed domains) carries no Access-Control-Allow-Origin, so the
 * browser hides it from scripts: it fails like an unreachable server.
 */
export async function fetchConfig(apiOrigin: string, project: string): Promise<ProjectConfig> {
  const response = await fetch(projectEndpoint(apiOrigin, project, 'config'), REQUEST_DEFAULTS);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const { settings, protection } = (await response.json()) as ProjectConfig;
  return { settings, protection };
}
