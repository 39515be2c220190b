import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { DateTime, NoContent, OneOf, Text, UserSchema, Uuid } from '../http/schemas.js';
import { actorOf, sessionOf } from './access.js';
import { ATTEMPT_METHODS, ATTEMPT_RESULTS } from './attempts.js';
import { endOtherSessions, endSession, listSessions } from './account-sessions.js';
import { exportOrgLogins, listOrgLogins, listOwnLogins } from './login-log.js';
import { requestPasswordReset, ResetRequestCounter, resetPassword } from './password-reset.js';
import { clientOf } from './routes.js';
import { changePassword } from './service.js';
import { clearSessionCookie } from './session-cookie.js';

// Long enough for any password the policy accepts (128 code points, up to 4
// UTF-16 units each) so the policy, not the schema, explains a refusal.
const Password = Text({ minLength: 1, maxLength: 1024 });


const attemptProperties = {
  id: Type.String(),
  at: DateTime,
  email: Type.String(),
  ip: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  method: OneOf(ATTEMPT_METHODS),
  result: OneOf(ATTEMPT_RESULTS),
  reason: Type.Union([Type.String(), Type.Null()]),
};
const Next = Type.Union([Type.String(), Type.Null()]);
/** The id of the last attempt of the page before (`next`); 18 digits always fit a bigint. */
const Cursor = Text({ maxLength: 18, pattern: '^[0-9]{1,18}$' });

const filterProperties = {
  result: Type.Optional(OneOf(ATTEMPT_RESULTS)),
  method: Type.Optional(OneOf(ATTEMPT_METHODS)),
  userId: Type.Optional(Uuid),
  from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
  to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40 })),
};
const OrgParams = Type.Object({ orgId: Uuid });

/** The signed-in user's password, sessions and login history; password reset; an organization's login history. */
export function accountRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    const resetRequests = new ResetRequestCounter();
    // Sessions, IP addresses and login histories are personal data (ASVS 14.3).
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    typed.post(
      '/api/v1/me/password',
      {
        config: { access: 'session' },
        schema: {
          summary: 'Change your password',
          description: "Needs the current password. The user's other sessions end.",
          tags: ['Account'],
          body: Type.Object({ currentPassword: Password, newPassword: Password }, { additionalProperties: false }),
          response: NoContent,
        },
      },
      async (request, reply) => {
        await changePassword(ctx, sessionOf(request), request.body.currentPassword, request.body.newPassword, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    typed.post(
      '/api/v1/auth/password/forgot',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Ask for a password-reset link',
          description: 'Always 202, whether or not the address has an account (no account discovery); a link goes out by e-mail when it does.',
          tags: ['Authentication'],
          body: Type.Object({ email: Text({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false }),
          response: { 202: Type.Object({}) },
        },
      },
      async (request, reply) => {
        await requestPasswordReset(ctx, resetRequests, request.body.email, request.clientIp);
        return reply.code(202).send({});
      },
    );

    typed.post(
      '/api/v1/auth/password/reset',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Set a new password with a reset link',
          description: "`token` comes from the reset link's fragment. Every session of the account ends.",
          tags: ['Authentication'],
          body: Type.Object({ token: Text({ minLength: 1, maxLength: 100 }), password: Password }, { additionalProperties: false }),
          response: NoContent,
        },
      },
      async (request, reply) => {
        await resetPassword(ctx, request.body.token, request.body.password, clientOf(request));
        return reply.code(204).send(null);
      },
    );

    typed.get(
      '/api/v1/me/sessions',
      {
        config: { access: 'session' },
        schema: {
          summary: 'List your sessions',
          tags: ['Account'],
          response: {
            200: Type.Object({
              items: Type.Array(
                Type.Object({ id: Type.String(), current: Type.Boolean(), device: Type.String(), ip: Type.Union([Type.String(), Type.Null()]), createdAt: DateTime, lastSeenAt: DateTime }),
              ),
            }),
          },
        },
      },
      async (request) => ({ items: await listSessions(ctx, sessionOf(request)) }),
    );

    typed.delete(
      '/api/v1/me/sessions/:sessionId',
      {
        config: { access: 'session' },
        schema: { summary: 'End one of your sessions', description: 'Ending the current session logs you out.', tags: ['Account'], params: Type.Object({ sessionId: Uuid }), response: NoContent },
      },
      async (request, reply) => {
        const session = sessionOf(request);
        await endSession(ctx, session, request.params.sessionId, actorOf(request));
        if (request.params.sessionId === session.publicId) clearSessionCookie(reply);
        return reply.code(204).send(null);
      },
    );

    typed.delete(
      '/api/v1/me/sessions',
      { config: { access: 'session' }, schema: { summary: 'End all your other sessions', tags: ['Account'], response: NoContent } },
      async (request, reply) => {
        await endOtherSessions(ctx, sessionOf(request), actorOf(request));
        return reply.code(204).send(null);
      },
    );

    typed.get(
      '/api/v1/me/logins',
      {
        config: { access: 'session' },
        schema: {
          summary: 'List your login history',
          description: 'Newest first, 50 a page; pass `next` back as `before` for older attempts.',
          tags: ['Account'],
          querystring: Type.Object({ before: Type.Optional(Cursor) }, { additionalProperties: false }),
          response: { 200: Type.Object({ items: Type.Array(Type.Object(attemptProperties)), next: Next }) },
        },
      },
      async (request) => listOwnLogins(ctx.db.app, sessionOf(request).userId, request.query.before),
    );

    typed.get(
      '/api/v1/orgs/:orgId/logins',
      {
        config: { access: { permission: 'audit_read' } },
        schema: {
          summary: "List the organization's login history",
          description: 'Login attempts of members and of addresses that match no account, newest first; pass `next` back as `before` for older ones.',
          tags: ['Audit log'],
          params: OrgParams,
          querystring: Type.Object({ ...filterProperties, before: Type.Optional(Cursor) }, { additionalProperties: false }),
          response: { 200: Type.Object({ items: Type.Array(Type.Object({ ...attemptProperties, user: Type.Union([UserSchema, Type.Null()]) })), next: Next }) },
        },
      },
      async (request) => {
        const { before, ...filters } = request.query;
        return listOrgLogins(ctx.db.app, request.params.orgId, filters, before);
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/logins.csv',
      {
        config: { access: { permission: 'audit_read' }, reauth: true },
        schema: {
          summary: "Export the organization's login history as CSV",
          description: 'The same filters as the list; the export is recorded in the audit log.',
          tags: ['Audit log'],
          params: OrgParams,
          querystring: Type.Object(filterProperties, { additionalProperties: false }),
          produces: ['text/csv'],
          response: { 200: Type.String({ description: 'CSV (RFC 4180) with a header line, sent as an attachment.' }) },
        },
      },
      async (request, reply) => {
        const { csv, filename } = await exportOrgLogins(ctx, request.params.orgId, request.query, actorOf(request));
        return reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(csv);
      },
    );
  };
}
