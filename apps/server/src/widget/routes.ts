import fs from 'node:fs';
import path from 'node:path';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Context } from '../context.js';
import { AppError } from '../errors.js';
import { checkOrigin, ingestFeedback, type IngestProject, type ProjectDirectory } from '../feedback/ingest.js';
import { WidgetSubmissionSchema } from '../feedback/schema.js';
import { storeScreenshot } from '../feedback/screenshots.js';
import type { FeedbackWriter } from '../feedback/writer.js';
import { widgetProtection, WidgetProtectionSchema } from '../projects/protection.js';
import { RATE_LIMIT_HEADERS } from '../security/rate-limit.js';
import type { RefusalCounter } from '../security/refusals.js';
import type { FrontDoor } from './front-door.js';
import { WidgetSettingsSchema } from '../projects/widget-settings.js';
import { SCREENSHOT_MAX_BYTES } from '../security/images.js';
import { WIDGET_DIST, widgetManifest } from './assets.js';

const WIDGET_BODY_LIMIT = 64 * 1024;

const ChallengeSchema = Type.Object({ algorithm: Type.String(), challenge: Type.String(), maxnumber: Type.Integer(), salt: Type.String(), signature: Type.String() });

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;
const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];
// Hashed chunk names from the widget build; anything else under /widget/ is 404.
const ASSET_NAME = /^[A-Za-z0-9_.-]+\.js$/;

declare module 'fastify' {
  interface FastifyRequest {
    ingestProject?: IngestProject;
  }
}

/** The built widget files, read once at start-up; empty when the widget is not built. */
function loadAssets(): Map<string, Buffer> {
  const assets = new Map<string, Buffer>();
  const manifest = widgetManifest();
  const names = manifest ? [manifest.loader, ...Object.values(manifest.files)] : ['loader.js'];
  for (const name of names) {
    try {
      assets.set(name, fs.readFileSync(path.join(WIDGET_DIST, name)));
    } catch {
      // not built: the route answers 404 with a hint
    }
  }
  return assets;
}

/**
 * The public side: the widget's files and the ingestion API. CORS is answered
 * per project: only a listed origin gets Access-Control-Allow-Origin, and the
 * check runs before the body is read.
 */
export function widgetRoutes(ctx: Context, directory: ProjectDirectory, writer: FeedbackWriter, frontDoor: FrontDoor, refusals: RefusalCounter) {
  const assets = loadAssets();
  const manifest = widgetManifest();

  const admitOrigin = async (request: FastifyRequest<{ Params: { key: string } }>, reply: FastifyReply) => {
    // Caches must keep one answer per Origin (SECURITY.md case 2).
    reply.header('vary', 'Origin');
    reply.header('cross-origin-resource-policy', 'cross-origin');
    const project = await directory.find(request.params.key, ctx.clock.now().getTime());
    if (!project) throw new AppError('project_not_found', 'There is no project with this key. Check the data-project attribute of the snippet.');
    request.ingestProject = project;
    checkOrigin(request.headers.origin, project);
    reply.header('access-control-allow-origin', request.headers.origin);
    reply.header('access-control-expose-headers', RATE_LIMIT_HEADERS.join(', '));
  };

  // Uploads and submissions: the address is checked before the body is read.
  const admitSender = [admitOrigin, async (request: FastifyRequest, reply: FastifyReply) => frontDoor.admitAddress(request.ingestProject!, request, reply)];

  const sendAsset = (reply: FastifyReply, name: string, cache: string) => {
    const body = assets.get(name);
    if (!body) throw new AppError('not_found', assets.size === 0 ? 'The widget is not built. Run npm run build.' : 'No such widget file.');
    return reply
      .header('content-type', 'text/javascript; charset=utf-8')
      .header('cache-control', cache)
      .header('cross-origin-resource-policy', 'cross-origin')
      .header('access-control-allow-origin', '*')
      .send(body);
  };

  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    // Every refusal of a known project is counted by its code for the Protection page.
    app.addHook('onError', async (request, _reply, error) => {
      if (request.ingestProject) refusals.count(request.ingestProject, error instanceof AppError ? error.code : 'validation_failed');
    });

    // The unversioned loader may change with an upgrade, so it is cached
    // briefly; chunk names carry a content hash and never change.
    typed.get('/widget/v1/:file', { config: { access: 'public' }, schema: { params: Type.Object({ file: Type.String({ maxLength: 100 }) }) } }, async (request, reply) => {
      const { file } = request.params;
      if (!ASSET_NAME.test(file)) throw new AppError('not_found', 'No such widget file.');
      const isLoader = file === (manifest?.loader ?? 'loader.js');
      return sendAsset(reply, file, isLoader ? 'public, max-age=300' : 'public, max-age=31536000, immutable');
    });

    // The loader under its version: what the SRI snippet points at.
    typed.get('/widget/:version/loader.js', { config: { access: 'public' }, schema: { params: Type.Object({ version: Type.String({ maxLength: 40 }) }) } }, async (request, reply) => {
      if (!manifest || request.params.version !== manifest.version) throw new AppError('not_found', 'No such widget version.');
      return sendAsset(reply, manifest.loader, 'public, max-age=31536000, immutable');
    });

    const params = Type.Object({ key: Type.String({ maxLength: 100 }) });

    for (const url of ['/api/widget/v1/projects/:key/feedback', '/api/widget/v1/projects/:key/screenshots']) {
      typed.options(url, { config: { access: 'public' }, schema: { params }, onRequest: admitOrigin }, async (_request, reply) =>
        reply
          .code(204)
          .header('access-control-allow-methods', 'POST')
          .header('access-control-allow-headers', 'content-type, idempotency-key')
          .header('access-control-max-age', '600')
          .send(),
      );
    }

    typed.get(
      '/api/widget/v1/projects/:key/config',
      { config: { access: 'public' }, onRequest: admitOrigin, schema: { params, response: { 200: Type.Object({ settings: WidgetSettingsSchema, protection: WidgetProtectionSchema, version: Type.String() }) } } },
      async (request, reply) => {
        reply.header('cache-control', 'public, max-age=60');
        const { settings, protection } = request.ingestProject!;
        return { settings, protection: widgetProtection(protection), version: manifest?.version ?? 'dev' };
      },
    );

    typed.get(
      '/api/widget/v1/projects/:key/challenge',
      { config: { access: 'public' }, onRequest: admitOrigin, schema: { params, response: { 200: ChallengeSchema } } },
      async (request, reply) => {
        reply.header('cache-control', 'no-store');
        return frontDoor.issueChallenge(request.ingestProject!, request.clientIp, reply);
      },
    );

    // Screenshots arrive as raw image bytes; their real type is decided by
    // their content, not by this header.
    app.addContentTypeParser(IMAGE_TYPES, { parseAs: 'buffer', bodyLimit: SCREENSHOT_MAX_BYTES }, (_request, body, done) => done(null, body));

    typed.post(
      '/api/widget/v1/projects/:key/screenshots',
      { config: { access: 'public' }, bodyLimit: SCREENSHOT_MAX_BYTES, onRequest: admitSender, schema: { params, response: { 201: Type.Object({ id: Type.String() }) } } },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body)) throw new AppError('unsupported_media_type', 'Send the screenshot as image/png, image/jpeg or image/webp.');
        const id = await storeScreenshot(ctx.db.app, ctx.keyring, request.ingestProject!, request.body, ctx.clock.now());
        return reply.code(201).send({ id });
      },
    );

    typed.post(
      '/api/widget/v1/projects/:key/feedback',
      {
        config: { access: 'public' },
        bodyLimit: WIDGET_BODY_LIMIT,
        onRequest: admitSender,
        schema: { params, body: WidgetSubmissionSchema, response: { 201: Type.Object({ id: Type.String() }) } },
      },
      async (request, reply) => {
        const idempotencyKey = request.headers['idempotency-key'];
        if (idempotencyKey !== undefined && (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey))) {
          throw new AppError('idempotency_key_invalid', 'Idempotency-Key must be 1 to 128 letters, digits or _ . : -');
        }
        const project = request.ingestProject!;
        const reporter = await frontDoor.checkSubmission(project, request.body, { ip: request.clientIp, origin: request.headers.origin! }, reply);
        const id = await ingestFeedback({ pool: ctx.db.app, keyring: ctx.keyring, writer }, project, request.body, {
          ip: request.clientIp,
          userAgent: request.headers['user-agent'],
          idempotencyKey,
          now: ctx.clock.now(),
          admit: (newId) => frontDoor.admit(project, reporter, request.body, { id: newId, idempotencyKey }, reply),
        });
        return reply.code(201).send({ id });
      },
    );
  };
}
