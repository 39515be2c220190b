import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actingUserOf, actorOf, memberOf } from '../auth/access.js';
import { hasPermission } from '../auth/permissions.js';
import type { Context } from '../context.js';
import { IF_MATCH_NOTE, ifMatchVersion, withEtag } from '../http/etag.js';
import { NonBlankText, Nullable, PageQuery, Uuid } from '../http/schemas.js';
import type { FrontDoor } from '../widget/front-door.js';
import type { ProjectDirectory } from './ingest.js';
import { listFeedback } from './list.js';
import { addNote, deleteNote, listNotes } from './notes.js';
import {
  FeedbackChangesSchema, FeedbackPageSchema, FeedbackSchema, ListQuerySchema, NoteSchema, ReporterSchema, ServerSubmissionSchema,
} from './schema.js';
import { readScreenshot } from './screenshots.js';
import { createServerFeedback, deleteFeedback, getFeedback, readReporter, updateFeedback } from './service.js';
import type { FeedbackTarget } from './store.js';
import type { FeedbackWriter } from './writer.js';

// Notes and server submissions carry up to 10,000 characters: as the widget,
// 64 KB rather than the dashboard API's 16 KB.
const TEXT_BODY_LIMIT = 64 * 1024;

const OrgParams = Type.Object({ orgId: Uuid });
const FeedbackParams = Type.Object({ orgId: Uuid, feedbackId: Uuid });
const NotesQuery = Type.Object(PageQuery(25), { additionalProperties: false });

type Deps = { directory: ProjectDirectory; writer: FeedbackWriter; frontDoor: FrontDoor };

/** The feedback a `:feedbackId` route names, as the caller may reach it (params already validated). */
function targetOf(request: FastifyRequest): FeedbackTarget {
  const { orgId, feedbackId } = request.params as { orgId: string; feedbackId: string };
  return { orgId, feedbackId, scope: memberOf(request).projectIds };
}

/** Whether the caller also has `permission`: a session's role, or a key's scopes and its creator's role. */
function mayAlso(request: FastifyRequest, permission: 'feedback_delete'): boolean {
  return hasPermission(memberOf(request).role, permission) && (request.apiKey === null || request.apiKey.scopes.includes(permission));
}

export function feedbackRoutes(ctx: Context, deps: Deps) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs/:orgId/feedback',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: {
          summary: 'List feedback',
          description:
            'Every project the caller can see, newest first, in pages (`nextCursor`). Filters combine (all must hold). ' +
            '`q` finds messages containing every word, the last one as a prefix. Items carry no personal data of the reporter: read it from `/reporter`.',
          tags: ['Feedback'],
          params: OrgParams,
          querystring: ListQuerySchema,
          response: { 200: FeedbackPageSchema },
        },
      },
      async (request) => {
        const { query } = request;
        const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
        const date = (value: string | undefined) => (value === undefined ? undefined : new Date(value));
        return listFeedback(ctx.db.app, request.params.orgId, memberOf(request).projectIds, {
          projectId: query.projectId, status: query.status, type: query.type, rating: number(query.rating), ratingMin: number(query.ratingMin),
          ratingMax: number(query.ratingMax), from: date(query.from), to: date(query.to), q: query.q, label: query.label, assignee: query.assignee,
          cursor: query.cursor, limit: Number(query.limit ?? 25),
        });
      },
    );

    typed.post(
      '/api/v1/orgs/:orgId/projects/:projectId/feedback',
      {
        config: { access: { permission: 'feedback_create' } },
        bodyLimit: TEXT_BODY_LIMIT,
        schema: {
          summary: 'Create feedback from a server',
          description:
            "For projects whose protection allows server submissions (`serverSubmissions`). The body follows the project's widget settings, as the widget's does; " +
            "spam rules and the project's budget apply. The identity you send counts as verified. `ip` and `userAgent` recorded are your server's.",
          tags: ['Feedback'],
          params: Type.Object({ orgId: Uuid, projectId: Uuid }),
          body: ServerSubmissionSchema,
          response: { 201: FeedbackSchema },
        },
      },
      async (request, reply) => {
        const { orgId, projectId } = request.params;
        const feedback = await createServerFeedback({ pool: ctx.db.app, keyring: ctx.keyring, ...deps }, orgId, projectId, request.body, {
          scope: memberOf(request).projectIds,
          ip: request.clientIp,
          userAgent: request.headers['user-agent'],
          idempotency: request.idempotency,
          reply,
          now: ctx.clock.now(),
        });
        return reply.code(201).header('location', `/api/v1/orgs/${orgId}/feedback/${feedback.id}`).send(withEtag(reply, feedback));
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/feedback/:feedbackId',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: { summary: 'Get feedback', description: 'Without the personal data of the reporter (see `/reporter`).', tags: ['Feedback'], params: FeedbackParams, response: { 200: FeedbackSchema } },
      },
      async (request, reply) => withEtag(reply, await getFeedback(ctx.db.app, targetOf(request))),
    );

    typed.get(
      '/api/v1/orgs/:orgId/feedback/:feedbackId/reporter',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: {
          summary: "Get the reporter's personal data",
          description: 'E-mail, address, browser, identity, custom fields, metadata, console errors and consent. Each read is recorded in the audit log (`feedback.reporter_viewed`).',
          tags: ['Feedback'],
          params: FeedbackParams,
          response: { 200: ReporterSchema },
        },
      },
      async (request, reply) => {
        // Personal data: never kept by shared caches or the browser's back-forward cache.
        reply.header('cache-control', 'no-store');
        return readReporter(ctx.db.app, ctx.keyring, targetOf(request), actorOf(request), ctx.clock.now());
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/feedback/:feedbackId/screenshot',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: {
          summary: 'Get the screenshot',
          description: 'The image (PNG or WebP) sent with the feedback. Each read is recorded in the audit log (`feedback.screenshot_viewed`).',
          tags: ['Feedback'],
          params: FeedbackParams,
          response: { 200: Type.Unsafe<Buffer>(Type.String({ format: 'binary', description: 'image/png or image/webp' })) },
        },
      },
      async (request, reply) => {
        const image = await readScreenshot(ctx.db.app, ctx.keyring, targetOf(request), actorOf(request), ctx.clock.now());
        // An upload is only ever an image: never sniffed, never a document that could run script.
        return reply
          .header('content-type', image.contentType)
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('content-disposition', `inline; filename="screenshot.${image.contentType === 'image/png' ? 'png' : 'webp'}"`)
          .header('cache-control', 'no-store')
          .send(image.data);
      },
    );

    typed.patch(
      '/api/v1/orgs/:orgId/feedback/:feedbackId',
      {
        config: { access: { permission: 'feedback_update' } },
        schema: {
          summary: 'Triage feedback',
          description: `Change the status, the assignee (a member who can see the project; null to unassign) or the labels (the whole set). ${IF_MATCH_NOTE}`,
          tags: ['Feedback'],
          params: FeedbackParams,
          body: FeedbackChangesSchema,
          response: { 200: FeedbackSchema },
        },
      },
      async (request, reply) =>
        withEtag(reply, await updateFeedback(ctx.db.app, targetOf(request), request.body, ifMatchVersion(request), actorOf(request), ctx.clock.now())),
    );

    typed.delete(
      '/api/v1/orgs/:orgId/feedback/:feedbackId',
      {
        config: { access: { permission: 'feedback_delete' } },
        schema: { summary: 'Delete feedback', description: `With its screenshot, notes and labels. ${IF_MATCH_NOTE}`, tags: ['Feedback'], params: FeedbackParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await deleteFeedback(ctx.db.app, targetOf(request), ifMatchVersion(request), actorOf(request), ctx.clock.now());
        return reply.code(204).send(null);
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/feedback/:feedbackId/notes',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: {
          summary: 'List notes',
          description: 'Internal notes on the feedback, newest first.',
          tags: ['Feedback'],
          params: FeedbackParams,
          querystring: NotesQuery,
          response: { 200: Type.Object({ items: Type.Array(NoteSchema), nextCursor: Nullable(Type.String()) }) },
        },
      },
      async (request) => listNotes(ctx.db.app, targetOf(request), { cursor: request.query.cursor, limit: Number(request.query.limit ?? 25) }),
    );

    typed.post(
      '/api/v1/orgs/:orgId/feedback/:feedbackId/notes',
      {
        config: { access: { permission: 'feedback_update' } },
        bodyLimit: TEXT_BODY_LIMIT,
        schema: {
          summary: 'Add a note',
          description: 'An internal note (1 to 10,000 characters), never shown to the reporter.',
          tags: ['Feedback'],
          params: FeedbackParams,
          body: Type.Object({ body: NonBlankText(10_000) }, { additionalProperties: false }),
          response: { 201: NoteSchema },
        },
      },
      async (request, reply) => {
        const author = { userId: actingUserOf(request), apiKeyId: request.apiKey?.id ?? null, actor: actorOf(request) };
        return reply.code(201).send(await addNote(ctx.db.app, targetOf(request), request.body.body, author, ctx.clock.now()));
      },
    );

    typed.delete(
      '/api/v1/orgs/:orgId/feedback/:feedbackId/notes/:noteId',
      {
        config: { access: { permission: 'feedback_update' } },
        schema: {
          summary: 'Delete a note',
          description: 'Your own notes; any note with `feedback_delete` as well (owners and admins).',
          tags: ['Feedback'],
          params: Type.Object({ orgId: Uuid, feedbackId: Uuid, noteId: Uuid }),
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await deleteNote(ctx.db.app, targetOf(request), request.params.noteId, actingUserOf(request), mayAlso(request, 'feedback_delete'), actorOf(request), ctx.clock.now());
        return reply.code(204).send(null);
      },
    );
  };
}
