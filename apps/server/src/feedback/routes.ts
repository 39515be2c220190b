import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, memberOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { DateTime, OneOf, Uuid } from '../http/schemas.js';
import { readScreenshot } from './screenshots.js';
import { assertFeedbackInScope, changeFeedbackStatus, getFeedback, listFeedback, STATUSES } from './service.js';

const Status = OneOf(STATUSES);
const Nullable = <T extends import('@fastify/type-provider-typebox').TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const Summary = {
  id: Type.String(),
  createdAt: DateTime,
  status: Status,
  rating: Nullable(Type.Integer()),
  /** What the rating counts on: stars and emoji 1-5, thumbs 0 (down) or 1 (up), nps 0-10; null for ratings before scales existed (1-5). */
  ratingScale: Nullable(OneOf(['stars', 'thumbs', 'emoji', 'nps'] as const)),
  type: Nullable(Type.String()),
  message: Type.String(),
  email: Nullable(Type.String()),
  hasScreenshot: Type.Boolean(),
};
const SummarySchema = Type.Object(Summary);
const FeedbackSchema = Type.Object({
  ...Summary,
  projectId: Type.String(),
  updatedAt: DateTime,
  pageUrl: Nullable(Type.String()),
  locale: Nullable(Type.String()),
  viewport: Nullable(Type.Object({ width: Type.Integer(), height: Type.Integer() })),
  custom: Type.Record(Type.String(), Type.String()),
  userAgent: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  consent: Nullable(Type.Boolean()),
  identity: Nullable(Type.Object({ id: Type.String(), email: Nullable(Type.String()), name: Nullable(Type.String()), verified: Type.Boolean() })),
  metadata: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  browser: Nullable(Type.String()),
  os: Nullable(Type.String()),
  consoleErrors: Type.Array(Type.Object({ message: Type.String(), stack: Nullable(Type.String()) })),
});

const FeedbackParams = Type.Object({ orgId: Uuid, feedbackId: Uuid });

export function feedbackRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs/:orgId/projects/:projectId/feedback',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: {
          params: Type.Object({ orgId: Uuid, projectId: Uuid }),
          querystring: Type.Object(
            {
              status: Type.Optional(Status),
              cursor: Type.Optional(Type.String({ maxLength: 200 })),
              limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(SummarySchema), nextCursor: Nullable(Type.String()) }) },
        },
      },
      async (request) => {
        const { orgId, projectId } = request.params;
        const { status, cursor, limit } = request.query;
        return listFeedback(ctx.db.app, ctx.keyring, orgId, projectId, memberOf(request).projectIds, { status, cursor, limit: Number(limit ?? 25) });
      },
    );

    typed.get('/api/v1/orgs/:orgId/feedback/:feedbackId', { config: { access: { permission: 'feedback_read' } }, schema: { params: FeedbackParams, response: { 200: FeedbackSchema } } }, async (request, reply) => {
      const { orgId, feedbackId } = request.params;
      // Personal data: never kept by shared caches or the browser's back-forward cache.
      reply.header('cache-control', 'no-store');
      return getFeedback(ctx.db.app, ctx.keyring, orgId, feedbackId, memberOf(request).projectIds);
    });

    typed.get('/api/v1/orgs/:orgId/feedback/:feedbackId/screenshot', { config: { access: { permission: 'feedback_read' } }, schema: { params: FeedbackParams } }, async (request, reply) => {
      const { orgId, feedbackId } = request.params;
      await assertFeedbackInScope(ctx.db.app, orgId, feedbackId, memberOf(request).projectIds);
      const image = await readScreenshot(ctx.db.app, ctx.keyring, orgId, feedbackId);
      // An upload is only ever an image: never sniffed, never a document that could run script.
      return reply
        .header('content-type', image.contentType)
        .header('content-security-policy', "default-src 'none'; sandbox")
        .header('content-disposition', `inline; filename="screenshot.${image.contentType === 'image/png' ? 'png' : 'webp'}"`)
        .header('cache-control', 'no-store')
        .send(image.data);
    });

    typed.patch(
      '/api/v1/orgs/:orgId/feedback/:feedbackId',
      { config: { access: { permission: 'feedback_update' } }, schema: { params: FeedbackParams, body: Type.Object({ status: Status }, { additionalProperties: false }), response: { 200: FeedbackSchema } } },
      async (request) => {
        const { orgId, feedbackId } = request.params;
        return changeFeedbackStatus(ctx.db.app, ctx.keyring, orgId, feedbackId, memberOf(request).projectIds, request.body.status, actorOf(request), ctx.clock.now());
      },
    );
  };
}
