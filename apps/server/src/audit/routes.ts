import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { actorOf, memberOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { DateTime, Nullable, OneOf, Text, Uuid } from '../http/schemas.js';
import { AUDIT_PAGE_DEFAULT, listAuditLog, startAuditExport } from './log.js';
import type { Actor } from './service.js';

const ACTOR_TYPES: Actor['type'][] = ['user', 'api_key', 'cli', 'system'];

const filterProperties = {
  action: Type.Optional(
    Type.String({
      minLength: 1, maxLength: 100, pattern: '^[a-z0-9_]+(\\.[a-z0-9_]+)*(\\.\\*)?$',
      description: 'An exact action (`feedback.reporter_viewed`), or every action under a prefix (`feedback.*`).',
    }),
  ),
  actorType: Type.Optional(OneOf(ACTOR_TYPES)),
  actorId: Type.Optional(Text({ minLength: 1, maxLength: 100 })),
  targetType: Type.Optional(Type.String({ minLength: 1, maxLength: 50, pattern: '^[a-z0-9_]+$' })),
  targetId: Type.Optional(Text({ minLength: 1, maxLength: 100 })),
  from: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'Events at or after this time.' })),
  to: Type.Optional(Type.String({ format: 'date-time', maxLength: 40, description: 'Events before this time.' })),
};

const ItemProperties = {
  seq: Type.Integer({ description: "The event's place in the organization's chain, from 1." }),
  at: DateTime,
  actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()), label: Nullable(Type.String()), ip: Nullable(Type.String()) }),
  action: Type.String(),
  target: Nullable(Type.Object({ type: Nullable(Type.String()), id: Nullable(Type.String()) })),
  data: Type.Object({}, { additionalProperties: true }),
  hash: Type.String({ description: 'SHA-256 of the previous hash and this event (hex); see docs/api.md "Verifying an export".' }),
};
const OrgParams = Type.Object({ orgId: Uuid });

/** The organization's audit log: a page at a time, and the export (JSON Lines). */
export function auditRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();
    // The log names people, their addresses and what they read (ASVS 14.3).
    app.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });

    typed.get(
      '/api/v1/orgs/:orgId/audit',
      {
        config: { access: { permission: 'audit_read' } },
        schema: {
          summary: 'List audit events',
          description: 'Newest first. To page, pass the answer\'s `nextCursor` as `cursor`. An API key limited to projects cannot read the log (it covers the whole organization).',
          tags: ['Audit log'],
          params: OrgParams,
          querystring: Type.Object(
            {
              ...filterProperties,
              cursor: Type.Optional(Type.String({ maxLength: 18, pattern: '^[0-9]{1,18}$', description: 'The `nextCursor` of the page before.' })),
              limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: `1 to 100 (default ${AUDIT_PAGE_DEFAULT}).` })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ items: Type.Array(Type.Object(ItemProperties)), nextCursor: Nullable(Type.String()) }) },
        },
      },
      async (request) => {
        const { cursor, limit, ...filters } = request.query;
        return listAuditLog(ctx, request.params.orgId, memberOf(request).projectIds, filters, cursor === undefined ? undefined : Number(cursor), limit === undefined ? AUDIT_PAGE_DEFAULT : Number(limit));
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/audit/export',
      {
        // HEAD would run the export (and record it) to send no body.
        exposeHeadRoute: false,
        config: { access: { permission: 'audit_read' }, reauth: true },
        schema: {
          summary: 'Export audit events as JSON Lines',
          description:
            'Every event matching the filters, oldest first, one JSON object a line with `orgId`, `prevHash` and `hash` added so the chain can be checked (docs/api.md). ' +
            'The export is itself recorded (`audit.exported`, with its filters) before the first line is sent, and includes that record when the filters match it. ' +
            'One export per organization runs at a time (409 `conflict` with Retry-After otherwise). Sessions need a recent sign-in (re-authentication).',
          tags: ['Audit log'],
          params: OrgParams,
          querystring: Type.Object(filterProperties, { additionalProperties: false }),
          response: { 200: { description: 'JSON Lines', content: { 'application/x-ndjson': { schema: Type.Unsafe<Readable>(Type.String()) } } } },
        },
      },
      async (request, reply) => {
        const { stream, filename } = await startAuditExport(ctx, request.params.orgId, memberOf(request).projectIds, request.query, actorOf(request));
        return reply
          .header('content-type', 'application/x-ndjson; charset=utf-8')
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(stream);
      },
    );
  };
}
