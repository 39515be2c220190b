// The project's widget settings, as GET .../config answers them. The server's
// TypeBox schema is the one source of the shape; this import is type-only and
// erased from the bundle.
export type { RatingMode, WidgetSettings } from '../../../apps/server/src/projects/widget-settings.js';
