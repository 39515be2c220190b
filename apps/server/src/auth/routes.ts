import type { FastifyInstance, FastifyReply } from 'fastify';
import { Type } from '@fastify/type-provider-typebox';
import type { Context } from '../context.js';
import { listMemberships } from '../orgs/service.js';
import { Text, UserSchema } from '../http/schemas.js';
import { requireUser, sessionPolicy } from './guard.js';
import { logIn } from './service.js';
import { deleteSession, findSession, SESSION_COOKIE } from './sessions.js';

const Credentials = Type.Object(
  { email: Text({ minLength: 3, maxLength: 254 }), password: Text({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
}

export function authRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<import('@fastify/type-provider-typebox').TypeBoxTypeProvider>();

    typed.post('/api/v1/auth/login', { schema: { body: Credentials, response: { 200: Type.Object({ user: UserSchema }) } } }, async (request, reply) => {
      const now = ctx.clock.now();
      // Session fixation: whatever session came with the request ends; the login gets a new id.
      const previous = request.cookies[SESSION_COOKIE];
      const old = previous ? await findSession(ctx.db.app, previous, now, sessionPolicy(ctx)) : null;
      const { user, token } = await logIn(ctx.db.app, request.body.email, request.body.password, { ip: request.ip, userAgent: request.headers['user-agent'] }, sessionPolicy(ctx), now);
      if (old) await deleteSession(ctx.db.app, old.sessionHash);
      setSessionCookie(reply, token);
      return { user };
    });

    typed.post('/api/v1/auth/logout', async (request, reply) => {
      const user = await requireUser(ctx, request);
      await deleteSession(ctx.db.app, user.sessionHash);
      reply.clearCookie(SESSION_COOKIE, { httpOnly: true, secure: true, sameSite: 'lax', path: '/' });
      return reply.code(204).send();
    });

    typed.get(
      '/api/v1/me',
      {
        schema: {
          response: {
            200: Type.Object({
              user: UserSchema,
              organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: Type.String() })),
            }),
          },
        },
      },
      async (request) => {
        const user = await requireUser(ctx, request);
        return { user: { id: user.userId, email: user.email, name: user.name }, organizations: await listMemberships(ctx.db.app, user.userId) };
      },
    );
  };
}
