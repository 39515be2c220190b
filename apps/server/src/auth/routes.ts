import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Context } from '../context.js';
import { NoContent, OneOf, Text, UserSchema } from '../http/schemas.js';
import { mfaMethods } from '../mfa/methods.js';
import { listMemberships, ROLES } from '../orgs/service.js';
import { currentSession, sessionOf } from './access.js';
import { recognizeDevice } from './devices.js';
import { PERMISSION_IDS, permissionMatrix } from './permissions.js';
import { logIn, type LoginResult } from './service.js';
import { clearSessionCookie, setSessionCookie } from './session-cookie.js';
import { deleteSession } from './sessions.js';

const Credentials = Type.Object(
  { email: Text({ minLength: 3, maxLength: 254 }), password: Text({ minLength: 1, maxLength: 1024 }) },
  { additionalProperties: false },
);

const MFA_METHODS = ['totp', 'webauthn', 'recovery'] as const;

/** What every step of a login answers (password, MFA step, invite acceptance). */
export const LoginAnswer = Type.Object({
  user: UserSchema,
  stage: OneOf(['mfa', 'enroll', 'done'] as const),
  methods: Type.Array(OneOf(MFA_METHODS)),
});

/**
 * Ends whatever session came with the request (session fixation: a login
 * always gets a new id) and hands the browser the new one.
 */
export async function sendLogin(ctx: Context, request: FastifyRequest, reply: FastifyReply, result: LoginResult) {
  const previous = await currentSession(ctx, request, reply);
  if (previous) await deleteSession(ctx.db.app, previous.hash);
  setSessionCookie(reply, result.token);
  return { user: result.user, stage: result.stage, methods: result.methods };
}

export function clientOf(request: FastifyRequest) {
  return { ip: request.clientIp, userAgent: request.headers['user-agent'] };
}

export function authRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.post(
      '/api/v1/auth/login',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Log in with e-mail and password',
          description: 'Starts a dashboard session (the `__Host-parley_session` cookie). `stage` says what comes next: `mfa` (send a second factor), `enroll` (set one up first) or `done`.',
          tags: ['Authentication'],
          body: Credentials,
          response: { 200: LoginAnswer },
        },
      },
      async (request, reply) => {
        const result = await logIn(ctx, request.body.email, request.body.password, clientOf(request));
        const answer = await sendLogin(ctx, request, reply, result);
        await recognizeDevice(ctx, request, reply, result.user);
        return answer;
      },
    );

    typed.post(
      '/api/v1/auth/logout',
      { config: { access: 'any-session' }, schema: { summary: 'Log out', description: 'Ends this session on the server and clears its cookie.', tags: ['Authentication'], response: NoContent } },
      async (request, reply) => {
        await deleteSession(ctx.db.app, sessionOf(request).hash);
        clearSessionCookie(reply);
        return reply.code(204).send(null);
      },
    );

    typed.get(
      '/api/v1/me',
      {
        config: { access: 'any-session' },
        schema: {
          summary: 'Get the signed-in user',
          description: 'The user, the organizations they belong to (with their role) and the stage of this session.',
          tags: ['Account'],
          response: {
            200: Type.Object({
              user: UserSchema,
              organizations: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: OneOf(ROLES), requireMfa: Type.Boolean() })),
              session: Type.Object({ stage: OneOf(['mfa', 'enroll', 'done'] as const), methods: Type.Array(OneOf(MFA_METHODS)), factorAt: Type.Union([Type.String(), Type.Null()]) }),
            }),
          },
        },
      },
      async (request) => {
        const session = sessionOf(request);
        return {
          user: { id: session.userId, email: session.email, name: session.name },
          organizations: await listMemberships(ctx.db.app, session.userId),
          session: { stage: session.stage, methods: await mfaMethods(ctx.db.app, session.userId), factorAt: session.factorAt?.toISOString() ?? null },
        };
      },
    );

    typed.get(
      '/api/v1/permissions',
      {
        config: { access: 'session' },
        schema: {
          summary: 'List the roles and what each may do',
          description: 'The permission table (docs/permissions.md). `apiKey` says whether an API key may hold the permission as a scope.',
          tags: ['Members'],
          response: {
            200: Type.Object({
              roles: Type.Array(OneOf(ROLES)),
              permissions: Type.Array(Type.Object({ id: OneOf(PERMISSION_IDS), description: Type.String(), apiKey: Type.Boolean(), roles: Type.Array(OneOf(ROLES)) })),
            }),
          },
        },
      },
      async () => permissionMatrix(),
    );
  };
}
