import fs from 'node:fs';
import path from 'node:path';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { checkOrigin, ingestFeedback, type IngestProject, type ProjectDirectory } from '../feedback/ingest.js';
import type { FeedbackWriter } from '../feedback/writer.js';
import { NonBlankText, Text } from '../http/schemas.js';
import { REPO_ROOT } from '../paths.js';

export const WIDGET_BODY_LIMIT = 64 * 1024;

const Submission = Type.Object(
  {
    message: NonBlankText(10_000),
    rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    type: Type.Optional(Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9_-]+$' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    pageUrl: Type.Optional(Text({ maxLength: 2048 })),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z0-9-]+$' })),
    viewport: Type.Optional(
      Type.Object({ width: Type.Integer({ minimum: 0, maximum: 100_000 }), height: Type.Integer({ minimum: 0, maximum: 100_000 }) }, { additionalProperties: false }),
    ),
    custom: Type.Optional(
      Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }), Text({ maxLength: 2000 }), { maxProperties: 20, additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

declare module 'fastify' {
  interface FastifyRequest {
    ingestProject?: IngestProject;
  }
}

function loadLoader(): Buffer | null {
  try {
    return fs.readFileSync(path.join(REPO_ROOT, 'packages/widget/dist/loader.js'));
  } catch {
    return null;
  }
}

/**
 * The public side: the widget script and the ingestion API. CORS is answered
 * per project: only a listed origin gets Access-Control-Allow-Origin, and the
 * check runs before the body is read.
 */
export function widgetRoutes(ctx: Context, directory: ProjectDirectory, writer: FeedbackWriter) {
  const loader = loadLoader();

  const admitOrigin = async (request: FastifyRequest<{ Params: { key: string } }>, reply: FastifyReply) => {
    // Caches must keep one answer per Origin (SECURITY.md case 2).
    reply.header('vary', 'Origin');
    reply.header('cross-origin-resource-policy', 'cross-origin');
    const project = await directory.find(request.params.key, ctx.clock.now().getTime());
    if (!project) throw new AppError('project_not_found', 'There is no project with this key. Check the data-project attribute of the snippet.');
    checkOrigin(request.headers.origin, project);
    reply.header('access-control-allow-origin', request.headers.origin);
    request.ingestProject = project;
  };

  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get('/widget/v1/loader.js', async (_request, reply) => {
      if (!loader) throw new AppError('not_found', 'The widget is not built. Run npm run build.');
      return reply
        .header('content-type', 'text/javascript; charset=utf-8')
        .header('cache-control', 'public, max-age=300')
        .header('cross-origin-resource-policy', 'cross-origin')
        .header('access-control-allow-origin', '*')
        .send(loader);
    });

    const params = Type.Object({ key: Type.String({ maxLength: 100 }) });

    typed.options('/api/widget/v1/projects/:key/feedback', { schema: { params }, onRequest: admitOrigin }, async (_request, reply) =>
      reply
        .code(204)
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'content-type, idempotency-key')
        .header('access-control-max-age', '600')
        .send(),
    );

    typed.post(
      '/api/widget/v1/projects/:key/feedback',
      {
        bodyLimit: WIDGET_BODY_LIMIT,
        onRequest: admitOrigin,
        schema: { params, body: Submission, response: { 201: Type.Object({ id: Type.String() }) } },
      },
      async (request, reply) => {
        const idempotencyKey = request.headers['idempotency-key'];
        if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
          throw new AppError('idempotency_key_invalid', 'Idempotency-Key must be 1 to 128 letters, digits or _ . : -');
        }
        const id = await ingestFeedback({ pool: ctx.db.app, keyring: ctx.keyring, writer }, request.ingestProject!, request.body, {
          ip: request.ip,
          userAgent: request.headers['user-agent'],
          idempotencyKey,
          now: ctx.clock.now(),
        });
        return reply.code(201).send({ id });
      },
    );
  };
}
