import type { ConsoleError, FeedbackBody } from '../public-types.js';
import type { WidgetSettings } from '../settings.js';
import { describeBrowser } from './user-agent.js';

type PageContext = Pick<FeedbackBody, 'pageUrl' | 'locale' | 'viewport' | 'browser' | 'os' | 'consoleErrors'>;

/** What the project chose to send about the page, each item switchable in its settings. */
export function collectContext(wanted: WidgetSettings['context'], consoleErrors: ConsoleError[]): PageContext {
  const context: PageContext = {};
  // Query strings and fragments often carry tokens or personal data: dropped unless the project keeps them.
  if (wanted.pageUrl && /^https?:$/.test(location.protocol)) context.pageUrl = (wanted.keepQuery ? location.href : location.origin + location.pathname).slice(0, 2048);
  if (wanted.browser) Object.assign(context, describeBrowser(navigator));
  if (wanted.viewport) context.viewport = { width: innerWidth, height: innerHeight };
  if (wanted.locale && /^[A-Za-z0-9-]{2,35}$/.test(navigator.language)) context.locale = navigator.language;
  if (wanted.consoleErrors && consoleErrors.length > 0) context.consoleErrors = [...consoleErrors];
  return context;
}
