// The npm package's types stand alone (public-types.ts imports nothing), so
// the feedback body is written there once more; these checks, done by
// `tsc -p packages/widget`, fail as soon as it drifts from what the server takes.
import { expectTypeOf, it } from 'vitest';
import type { Submission } from '../../../apps/server/src/feedback/ingest.js';
import type { WidgetSettings as ServerSettings } from '../../../apps/server/src/projects/widget-settings.js';
import type { FeedbackBody } from './public-types.js';
import type { WidgetSettings } from './settings.js';

it('sends exactly the body the server takes', () => {
  expectTypeOf<FeedbackBody>().toEqualTypeOf<Submission>();
  expectTypeOf<WidgetSettings>().toEqualTypeOf<ServerSettings>();
});
