import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { clientOf } from '../auth/routes.js';
import { startSession } from '../auth/service.js';
import { setSessionCookie } from '../auth/session-cookie.js';
import type { Context } from '../context.js';
import { NonBlankText, Text, UserSchema } from '../http/schemas.js';
import { completeSetup, isSetupRequired } from './service.js';

const SetupBody = Type.Object(
  {
    token: Text({ minLength: 1, maxLength: 100 }),
    email: Type.String({ format: 'email', maxLength: 254 }),
    password: Text({ minLength: 1, maxLength: 1024 }),
    name: NonBlankText(200),
    organization: NonBlankText(100),
  },
  { additionalProperties: false },
);

export function setupRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/setup',
      {
        config: { access: 'public' },
        schema: { summary: 'Tell whether the installation still needs its first owner', tags: ['Setup'], response: { 200: Type.Object({ required: Type.Boolean() }) } },
      },
      async () => ({ required: await isSetupRequired(ctx.db.app) }),
    );

    typed.post(
      '/api/v1/setup',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Create the first owner and organization',
          description: 'Needs the one-time setup token that `parley serve` prints on its first start (or `parley users create`). Answers with a signed-in session.',
          tags: ['Setup'],
          body: SetupBody,
          response: { 201: Type.Object({ user: UserSchema }) },
        },
      },
      async (request, reply) => {
        const now = ctx.clock.now();
        const { user } = await completeSetup(ctx.db.app, ctx.keyring, request.body, now, request.clientIp);
        const { token } = await startSession(ctx, user, clientOf(request));
        setSessionCookie(reply, token);
        return reply.code(201).send({ user });
      },
    );
  };
}
