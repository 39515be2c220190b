import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, sessionOf } from '../auth/access.js';
import { API_SCOPES, PERMISSION_IDS } from '../auth/permissions.js';
import type { Context } from '../context.js';
import { DateTime, NonBlankText, Nullable, OneOf, PageQuery, Text, Uuid } from '../http/schemas.js';
import { API_KEY_STATUSES, createApiKey, listApiKeys, MAX_ALLOWED_IPS, MAX_KEY_PROJECTS, REVOKED_REASONS, revokeApiKey } from './service.js';

const ApiKeySchema = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String({ description: 'The first characters of the key (`prl_` and 8 more), to tell keys apart; never enough to use it.' }),
  scopes: Type.Array(OneOf(PERMISSION_IDS)),
  projectIds: Nullable(Type.Array(Uuid)),
  allowedIps: Type.Array(Type.String()),
  expiresAt: Nullable(DateTime),
  createdAt: DateTime,
  createdBy: Nullable(Type.Object({ id: Uuid, name: Type.String(), email: Type.String() })),
  lastUsedAt: Nullable(DateTime),
  lastUsedIp: Nullable(Type.String()),
  revokedAt: Nullable(DateTime),
  revokedReason: Nullable(OneOf(REVOKED_REASONS)),
  status: OneOf(API_KEY_STATUSES),
  version: Type.Integer(),
});

const NewKeyBody = Type.Object(
  {
    name: NonBlankText(100),
    scopes: Type.Array(OneOf(API_SCOPES), {
      minItems: 1, maxItems: API_SCOPES.length, uniqueItems: true,
      description: 'What the key may do (docs/permissions.md); each must be a permission of your role.',
    }),
    projectIds: Type.Optional(Nullable(Type.Array(Uuid, {
      minItems: 1, maxItems: MAX_KEY_PROJECTS,
      description: 'Only these projects (each one you can see); null or absent: every project its creator can see.',
    }))),
    allowedIps: Type.Optional(Type.Array(Text({ minLength: 1, maxLength: 64 }), {
      maxItems: MAX_ALLOWED_IPS,
      description: 'IP addresses and CIDR ranges the key may be used from; empty or absent: any address.',
    })),
    expiresAt: Type.Optional(Nullable(Type.String({
      format: 'date-time',
      description: 'When the key stops working: in the future, at most 366 days ahead. null or absent: never (not recommended).',
    }))),
  },
  { additionalProperties: false },
);

const OrgParams = Type.Object({ orgId: Uuid });

export function apiKeyRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs/:orgId/api-keys',
      {
        config: { access: { permission: 'apikeys_write' } },
        schema: {
          summary: 'List API keys',
          description: 'Every key of the organization, newest first, with its state; never the key itself.',
          tags: ['API keys'],
          params: OrgParams,
          querystring: Type.Object(
            {
              status: Type.Optional(OneOf(API_KEY_STATUSES)),
              ...PageQuery(100),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(ApiKeySchema), nextCursor: Nullable(Type.String()) }) },
        },
      },
      async (request, reply) => {
        const { status, cursor, limit } = request.query;
        reply.header('cache-control', 'no-store');
        return listApiKeys(ctx.db.app, request.params.orgId, { status, cursor, limit: Number(limit ?? 100) }, ctx.clock.now());
      },
    );

    typed.post(
      '/api/v1/orgs/:orgId/api-keys',
      {
        // A new key is a credential: a recent factor is required, and a retry with the same Idempotency-Key never sees it again.
        config: { access: { permission: 'apikeys_write' }, reauth: true, secretAnswer: true },
        schema: {
          summary: 'Create an API key',
          description: 'The answer holds the key (`token`) once: store it now. Parley keeps only a keyed hash of it.',
          tags: ['API keys'],
          params: OrgParams,
          body: NewKeyBody,
          response: { 201: Type.Object({ key: ApiKeySchema, token: Type.String({ description: 'The key: `prl_` and 38 characters. Shown only in this answer.' }) }) },
        },
      },
      async (request, reply) => {
        const { name, scopes, projectIds, allowedIps, expiresAt } = request.body;
        const creator = { userId: sessionOf(request).userId, actor: actorOf(request) };
        const input = { name, scopes, projectIds: projectIds ?? null, allowedIps: allowedIps ?? [], expiresAt: expiresAt == null ? null : new Date(expiresAt) };
        const created = await createApiKey(ctx.db.app, ctx.keyring, request.params.orgId, creator, input, ctx.clock.now());
        return reply.code(201).header('cache-control', 'no-store').send(created);
      },
    );

    typed.delete(
      '/api/v1/orgs/:orgId/api-keys/:keyId',
      {
        config: { access: { permission: 'apikeys_write' } },
        schema: {
          summary: 'Revoke an API key',
          description: 'The key stops working at once. Revoking a key that is already revoked succeeds and changes nothing.',
          tags: ['API keys'],
          params: Type.Object({ orgId: Uuid, keyId: Uuid }),
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await revokeApiKey(ctx.db.app, request.params.orgId, request.params.keyId, actorOf(request), ctx.clock.now());
        return reply.code(204).send(null);
      },
    );
  };
}
