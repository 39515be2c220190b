import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { apiKeyRoutes } from './apikeys/routes.js';
import { registerAccessControl } from './auth/access.js';
import { accountRoutes } from './auth/account-routes.js';
import { authRoutes } from './auth/routes.js';
import { LOGIN_FAILURE_JOB, loginFailureJob } from './auth/service.js';
import type { Context } from './context.js';
import { dashboardRoutes } from './dashboard/routes.js';
import { ProjectDirectory } from './feedback/ingest.js';
import { feedbackRoutes } from './feedback/routes.js';
import { EventDispatcher, EVENTS_CHANNEL } from './events/dispatcher.js';
import { auditRoutes } from './audit/routes.js';
import { DailyDigest, DIGEST_CHANNEL } from './notifications/digest.js';
import { instantNotifications } from './notifications/instant.js';
import { notificationRoutes } from './notifications/routes.js';
import { FeedbackWriter } from './feedback/writer.js';
import { healthRoutes } from './health/routes.js';
import { labelRoutes } from './labels/routes.js';
import { startHousekeeping } from './jobs/housekeeping.js';
import { Outbox, OUTBOX_CHANNEL } from './jobs/outbox.js';
import { Queues } from './jobs/queue.js';
import { memberRoutes } from './members/routes.js';
import { mfaRoutes } from './mfa/routes.js';
import { orgRoutes } from './orgs/routes.js';
import { MAIL_JOB, mailJobHandler } from './mail/mailer.js';
import { registerIdempotency } from './http/idempotency.js';
import { registerOpenApi } from './http/openapi.js';
import { registerProblemHandlers } from './http/problems.js';
import { projectRoutes } from './projects/routes.js';
import { CaptchaVerifier } from './security/captcha.js';
import { Challenges } from './security/challenge.js';
import { registerClientIp } from './security/client-ip.js';
import { ConnectionGuard } from './security/connection-guard.js';
import { systemKey } from './security/crypto.js';
import { configuredRanges, isInRanges } from './security/ip-ranges.js';
import { RefusalCounter } from './security/refusals.js';
import { createSharedState, type SharedState } from './security/shared-state.js';
import { assertSameOrigin } from './security/csrf.js';
import { registerSecurityHeaders } from './security/headers.js';
import { setupRoutes } from './setup/routes.js';
import { FrontDoor } from './widget/front-door.js';
import { widgetRoutes } from './widget/routes.js';
import { fanOutToWebhooks, WebhookDeliveries } from './webhooks/delivery.js';
import { WEBHOOKS_CHANNEL } from './webhooks/message.js';
import { WebhookClient } from './webhooks/outbound.js';
import { webhookRoutes } from './webhooks/routes.js';

// Dashboard API bodies are small; the widget route sets its own (64 KB) limit.
const BODY_LIMIT = 16 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    /** The background queues (outbox, events, webhook deliveries); tests settle them. */
    queues: Queues;
    /** Rate-limit counters and single-use tokens, shared by every instance (see /readyz). */
    shared: SharedState;
  }
}

export type AppOptions = { logger?: FastifyBaseLogger };

/** Builds the whole HTTP application; main.ts listens on it, tests call it over real HTTP. */
export async function buildApp(ctx: Context, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Our ids, not the client's: a forged X-Request-Id cannot poison the logs.
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: BODY_LIMIT,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    ajv: {
      // Refuse what does not match instead of repairing it: no type coercion,
      // no silently dropped unknown properties (mass-assignment guard).
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false },
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const proxies = configuredRanges(ctx.config.trustedProxies);
  registerClientIp(app, proxies, ctx.config.forwardedHeader);
  const connections = new ConnectionGuard(ctx.config.floodConnections, (address) => isInRanges(proxies, address), ctx.clock);
  app.server.on('connection', (socket: Socket) => connections.watch(socket));
  registerProblemHandlers(app);
  registerSecurityHeaders(app, ctx.config.publicUrl);
  await app.register(cookie);

  const shared = await createSharedState(ctx.config, ctx.db, ctx.clock, app.log);
  app.decorate('shared', shared);
  const publicOrigin = ctx.config.publicUrl.origin;
  app.addHook('preHandler', async (request) => {
    // Browsers never send Authorization on their own, so a Bearer request cannot be forged cross-site;
    // it is judged by its key alone (access.ts). Public routes ignore keys (and some read the cookie),
    // so there the header must not switch the check off.
    const judgedByKey = request.headers.authorization !== undefined && request.routeOptions.config.access !== 'public';
    if (request.url.startsWith('/api/v1/') && !judgedByKey) assertSameOrigin(request, publicOrigin);
  });
  registerAccessControl(app, ctx, shared);
  registerIdempotency(app, ctx);
  await registerOpenApi(app, ctx);

  const writer = new FeedbackWriter(ctx.db.app);
  const directory = new ProjectDirectory(ctx.db.app, ctx.keyring, ctx.config.projectCacheSeconds * 1000);
  const challenges = new Challenges(shared, systemKey(ctx.keyring.masterKey, 'altcha').key, ctx.clock);
  const frontDoor = new FrontDoor(shared, challenges, new CaptchaVerifier(ctx.config.captcha, app.log), connections);
  const refusals = new RefusalCounter(ctx.db.app, ctx.clock, app.log);
  const outbox = new Outbox(ctx.db.app, ctx.keyring, ctx.clock, { [MAIL_JOB]: mailJobHandler(ctx.config, app.log), [LOGIN_FAILURE_JOB]: loginFailureJob(ctx) }, app.log);
  // Reads PARLEY_WEBHOOK_CA_FILE now: a missing file stops the start.
  const webhookClient = new WebhookClient(ctx.config.webhooks);
  const deliveries = new WebhookDeliveries(ctx, webhookClient, app.log);
  const events = new EventDispatcher(ctx.db.app, ctx.clock, [instantNotifications(ctx), fanOutToWebhooks]);
  const queues = new Queues(ctx.db.app, app.log);
  queues.add(OUTBOX_CHANNEL, outbox.round);
  queues.add(EVENTS_CHANNEL, events.round);
  queues.add(WEBHOOKS_CHANNEL, deliveries.round);
  queues.add(DIGEST_CHANNEL, new DailyDigest(ctx).round);
  app.decorate('queues', queues);
  let stopHousekeeping = () => {};
  app.addHook('onReady', async () => {
    await queues.start();
    refusals.start();
    stopHousekeeping = startHousekeeping(ctx.db.app, ctx.clock, ctx.config, app.log);
  });
  // In-flight submissions and jobs finish before the process lets go of the database.
  app.addHook('onClose', async () => {
    stopHousekeeping();
    await queues.stop();
    await deliveries.drained();
    webhookClient.close();
    await writer.drained();
    await refusals.stop();
    await shared.close();
  });

  await app.register(healthRoutes(ctx));
  await app.register(setupRoutes(ctx));
  await app.register(authRoutes(ctx));
  await app.register(accountRoutes(ctx));
  await app.register(mfaRoutes(ctx));
  await app.register(memberRoutes(ctx));
  await app.register(apiKeyRoutes(ctx));
  await app.register(orgRoutes(ctx));
  await app.register(projectRoutes(ctx, (key) => directory.forget(key), refusals));
  await app.register(webhookRoutes(ctx, webhookClient));
  await app.register(feedbackRoutes(ctx, { directory, writer, frontDoor }));
  await app.register(labelRoutes(ctx));
  await app.register(auditRoutes(ctx));
  await app.register(notificationRoutes(ctx));
  await app.register(widgetRoutes(ctx, directory, writer, frontDoor, refusals));
  await app.register(dashboardRoutes);
  return app;
}
