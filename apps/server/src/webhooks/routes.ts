import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actingUserOf, actorOf, memberOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { EVENT_TYPES } from '../events/service.js';
import { IF_MATCH_NOTE, ifMatchVersion, setEtag, withEtag } from '../http/etag.js';
import { DateTime, Nullable, OneOf, PageQuery, Text, Uuid } from '../http/schemas.js';
import type { WebhookClient } from './outbound.js';
import {
  createWebhook, deleteWebhook, DELIVERY_STATUSES, getDelivery, getWebhook, listDeliveries, listWebhooks, MAX_OVERLAP_HOURS, redeliver, rotateWebhookSecret,
  sendTestEvent, updateWebhook, type Caller,
} from './service.js';

const tags = ['Webhooks'];

const EventTypes = Type.Array(OneOf(EVENT_TYPES), {
  minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true,
  description: 'The event types to receive (at least one). `member.*` events concern the whole organization: only organization-wide webhooks get them.',
});
const Url = Text({ minLength: 1, maxLength: 2048 });
const Description = Text({ maxLength: 200 });
const ProjectId = Nullable(Uuid);

const WebhookSchema = Type.Object({
  id: Uuid,
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(OneOf(EVENT_TYPES)),
  projectId: Nullable(Uuid),
  enabled: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
  createdBy: Nullable(Type.Object({ id: Uuid, name: Type.String(), email: Type.String() })),
  previousSecretExpiresAt: Nullable(DateTime),
  version: Type.Integer(),
});

const WithSecret = Type.Object({
  webhook: WebhookSchema,
  secret: Type.String({ description: 'The signing secret (`whsec_…`, Standard Webhooks). Shown only in this answer.' }),
});

const LastAttempt = Type.Object({ at: DateTime, durationMs: Nullable(Type.Integer()), statusCode: Nullable(Type.Integer()), error: Nullable(Type.String()) });

const DeliverySchema = Type.Object({
  id: Uuid,
  webhookId: Uuid,
  eventId: Uuid,
  eventType: Type.String(),
  status: OneOf(DELIVERY_STATUSES),
  attemptCount: Type.Integer(),
  nextAttemptAt: Nullable(DateTime),
  createdAt: DateTime,
  completedAt: Nullable(DateTime),
  lastAttempt: Nullable(LastAttempt),
});

const DeliveryDetailSchema = Type.Object({
  ...DeliverySchema.properties,
  payload: Type.Object({ type: Type.String(), timestamp: Type.String(), data: Type.Record(Type.String(), Type.Unknown()) }, { description: 'The JSON body each attempt sends.' }),
  attempts: Type.Array(
    Type.Object({
      attempt: Type.Integer(),
      at: DateTime,
      durationMs: Nullable(Type.Integer()),
      statusCode: Nullable(Type.Integer()),
      responseHead: Nullable(Type.String({ description: "The receiver's status line and headers, at most 4 KB." })),
      error: Nullable(Type.String()),
      manual: Type.Boolean({ description: 'Asked for by a person (redeliver, test event).' }),
    }),
  ),
});

const OrgParams = Type.Object({ orgId: Uuid });
const WebhookParams = Type.Object({ orgId: Uuid, webhookId: Uuid });
const DeliveryParams = Type.Object({ orgId: Uuid, webhookId: Uuid, deliveryId: Uuid });

const read = { access: { permission: 'webhooks_read' as const } };
const write = { access: { permission: 'webhooks_write' as const } };
// Creating a webhook or changing where it sends, and issuing its secret, need
// a recent factor: a stolen session cannot quietly start copying the
// organization's feedback to a server of its choosing.
const sensitive = { ...write, reauth: true };

const callerOf = (request: FastifyRequest): Caller => ({ actor: actorOf(request), userId: actingUserOf(request), scope: memberOf(request).projectIds });

export function webhookRoutes(ctx: Context, client: WebhookClient) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    const base = '/api/v1/orgs/:orgId/webhooks';

    typed.get(
      base,
      {
        config: read,
        schema: {
          summary: 'List webhooks',
          description: 'Every webhook of the organization (for a caller limited to some projects: the webhooks of those projects), oldest first.',
          tags, params: OrgParams,
          response: { 200: Type.Object({ items: Type.Array(WebhookSchema) }) },
        },
      },
      async (request) => ({ items: await listWebhooks(ctx.db.app, request.params.orgId, memberOf(request).projectIds, ctx.clock.now()) }),
    );

    typed.post(
      base,
      {
        config: { ...sensitive, secretAnswer: true },
        schema: {
          summary: 'Create a webhook',
          description: `Events of the chosen types (of one project, or of the whole organization) are POSTed to \`url\`, signed by the Standard Webhooks scheme. The answer holds the signing secret once: store it now. At most 50 webhooks per organization.`,
          tags, params: OrgParams,
          body: Type.Object(
            {
              url: Url,
              description: Type.Optional(Description),
              events: EventTypes,
              projectId: Type.Optional(ProjectId),
              enabled: Type.Optional(Type.Boolean({ description: 'Default true.' })),
            },
            { additionalProperties: false },
          ),
          response: { 201: WithSecret },
        },
      },
      async (request, reply) => {
        const { url, description = '', events, projectId = null, enabled = true } = request.body;
        const created = await createWebhook(ctx.db.app, ctx.keyring, client, request.params.orgId, callerOf(request), { url, description, events, projectId, enabled }, ctx.clock.now());
        setEtag(reply, created.webhook.version);
        return reply.code(201).header('cache-control', 'no-store').header('location', `/api/v1/orgs/${request.params.orgId}/webhooks/${created.webhook.id}`).send(created);
      },
    );

    typed.get(
      `${base}/:webhookId`,
      { config: read, schema: { summary: 'Get a webhook', tags, params: WebhookParams, response: { 200: WebhookSchema } } },
      async (request, reply) => withEtag(reply, await getWebhook(ctx.db.app, request.params.orgId, request.params.webhookId, memberOf(request).projectIds, ctx.clock.now())),
    );

    typed.patch(
      `${base}/:webhookId`,
      {
        config: sensitive,
        schema: {
          summary: 'Change a webhook',
          description: `Disabling pauses its pending deliveries, and no new ones are queued for it meanwhile. ${IF_MATCH_NOTE}`,
          tags, params: WebhookParams,
          body: Type.Object(
            { url: Type.Optional(Url), description: Type.Optional(Description), events: Type.Optional(EventTypes), projectId: Type.Optional(ProjectId), enabled: Type.Optional(Type.Boolean()) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: WebhookSchema },
        },
      },
      async (request, reply) => {
        const { orgId, webhookId } = request.params;
        return withEtag(reply, await updateWebhook(ctx.db.app, client, orgId, webhookId, callerOf(request), request.body, ifMatchVersion(request), ctx.clock.now()));
      },
    );

    typed.delete(
      `${base}/:webhookId`,
      {
        config: write,
        schema: { summary: 'Delete a webhook', description: `Its delivery log goes with it. ${IF_MATCH_NOTE}`, tags, params: WebhookParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        await deleteWebhook(ctx.db.app, request.params.orgId, request.params.webhookId, callerOf(request), ifMatchVersion(request), ctx.clock.now());
        return reply.code(204).send(null);
      },
    );

    typed.post(
      `${base}/:webhookId/rotate-secret`,
      {
        config: { ...sensitive, secretAnswer: true },
        schema: {
          summary: 'Rotate the signing secret of a webhook',
          description: `A new secret signs from now on; the old one signs too for \`overlapHours\` (0–${MAX_OVERLAP_HOURS}, default 24: each message then carries both signatures), so receivers can switch without missing a message. 0 retires the old secret at once (it leaked). The answer holds the new secret once. ${IF_MATCH_NOTE}`,
          tags, params: WebhookParams,
          body: Type.Object({ overlapHours: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OVERLAP_HOURS })) }, { additionalProperties: false }),
          response: { 200: WithSecret },
        },
      },
      async (request, reply) => {
        const { orgId, webhookId } = request.params;
        const rotated = await rotateWebhookSecret(ctx.db.app, ctx.keyring, orgId, webhookId, callerOf(request), request.body.overlapHours ?? 24, ifMatchVersion(request), ctx.clock.now());
        setEtag(reply, rotated.webhook.version);
        return reply.header('cache-control', 'no-store').send(rotated);
      },
    );

    typed.post(
      `${base}/:webhookId/test`,
      {
        config: write,
        schema: {
          summary: 'Send a test event to a webhook',
          description: 'Queues a `webhook.test` event for this webhook only (even when disabled); follow it in the delivery log.',
          tags, params: WebhookParams,
          response: { 202: DeliverySchema },
        },
      },
      async (request, reply) => {
        const delivery = await sendTestEvent(ctx.db.app, request.params.orgId, request.params.webhookId, callerOf(request), ctx.clock.now());
        return reply.code(202).send(delivery);
      },
    );

    typed.get(
      `${base}/:webhookId/deliveries`,
      {
        config: read,
        schema: {
          summary: 'List the deliveries of a webhook',
          description: 'Newest first; `nextCursor` fetches the next page. The log keeps deliveries for PARLEY_WEBHOOK_LOG_DAYS (default 30) days.',
          tags, params: WebhookParams,
          querystring: Type.Object(
            {
              status: Type.Optional(OneOf(DELIVERY_STATUSES)),
              ...PageQuery(25),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(DeliverySchema), nextCursor: Nullable(Type.String()) }) },
        },
      },
      async (request) => {
        const { orgId, webhookId } = request.params;
        const { status, cursor, limit } = request.query;
        return listDeliveries(ctx.db.app, orgId, webhookId, memberOf(request).projectIds, { status, cursor, limit: Number(limit ?? 25) }, ctx.clock.now());
      },
    );

    typed.get(
      `${base}/:webhookId/deliveries/:deliveryId`,
      {
        config: read,
        schema: { summary: 'Get a delivery with its attempts', tags, params: DeliveryParams, response: { 200: DeliveryDetailSchema } },
      },
      async (request) => {
        const { orgId, webhookId, deliveryId } = request.params;
        return getDelivery(ctx.db.app, orgId, webhookId, deliveryId, memberOf(request).projectIds, ctx.clock.now());
      },
    );

    typed.post(
      `${base}/:webhookId/deliveries/:deliveryId/redeliver`,
      {
        config: write,
        schema: {
          summary: 'Redeliver a delivery',
          description: 'Queues one more attempt now, whatever the delivery\'s state: the same message with the same `webhook-id`, so a receiver that already has it can tell. 409 while an attempt is under way.',
          tags, params: DeliveryParams,
          response: { 202: DeliverySchema },
        },
      },
      async (request, reply) => {
        const { orgId, webhookId, deliveryId } = request.params;
        return reply.code(202).send(await redeliver(ctx.db.app, orgId, webhookId, deliveryId, callerOf(request), ctx.clock.now()));
      },
    );
  };
}
