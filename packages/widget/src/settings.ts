// The project's widget settings and the protections the widget takes part in,
// as GET .../config answers them. The server's TypeBox schemas are the one
// source of the shapes; these imports are type-only and erased from the bundle.
export type { RatingMode, WidgetSettings } from '../../../apps/server/src/projects/widget-settings.js';
export type { WidgetProtection } from '../../../apps/server/src/projects/protection.js';
