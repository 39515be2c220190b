import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { sessionOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { OneOf, Uuid } from '../http/schemas.js';
import { listNotificationSettings, NOTIFICATION_MODES, setNotificationSetting } from './service.js';

const Mode = OneOf(NOTIFICATION_MODES);
const SettingSchema = Type.Object({
  orgId: Type.String(),
  orgName: Type.String(),
  projectId: Type.String(),
  projectName: Type.String(),
  mode: Mode,
});

/** The signed-in user's e-mail notification choices (dashboard sessions only: they are a person's preference). */
export function notificationRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/me/notifications',
      {
        config: { access: 'session' },
        schema: {
          summary: 'List your notification settings',
          description: 'Every project you can see, in every organization you belong to, with how you hear of its new feedback: `instant` (a mail each), `daily` (a digest), or `none` (the default).',
          tags: ['Notifications'],
          response: { 200: Type.Object({ items: Type.Array(SettingSchema) }) },
        },
      },
      async (request) => ({ items: await listNotificationSettings(ctx.db.app, sessionOf(request).userId) }),
    );

    typed.put(
      '/api/v1/me/notifications',
      {
        config: { access: 'session' },
        schema: {
          summary: 'Choose notifications for a project',
          description: 'Sets how you hear of new feedback in one project you can see (404 for any other). `none` stops the mails.',
          tags: ['Notifications'],
          body: Type.Object({ orgId: Uuid, projectId: Uuid, mode: Mode }, { additionalProperties: false }),
          response: { 200: SettingSchema },
        },
      },
      async (request) => setNotificationSetting(ctx.db.app, sessionOf(request).userId, request.body),
    );
  };
}
