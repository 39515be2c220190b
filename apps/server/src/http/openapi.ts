import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Access } from '../auth/access.js';
import type { Context } from '../context.js';
import { webhookEventsDocument } from '../webhooks/openapi.js';
import { ERROR_CODES } from '../errors.js';

// One OpenAPI 3.1 document, generated from the route schemas that also
// validate requests and serialise answers, so it cannot drift from what the
// server does. packages/client is generated from it.

/** Every operation has exactly one of these tags; the reference page groups by them, in this order. */
export const TAGS = [
  { name: 'Organizations', description: 'The organizations you can reach and their security policy.' },
  { name: 'Projects', description: 'Projects (one per site or app), their allowed domains, widget settings and protection.' },
  { name: 'Feedback', description: 'Feedback sent through the widget or the API: triage, reporter details, screenshots, notes.' },
  { name: 'Labels', description: "The organization's labels for sorting feedback." },
  { name: 'Members', description: 'Members, their roles and project access, and what each role may do.' },
  { name: 'Invites', description: 'Invitations to join an organization.' },
  { name: 'API keys', description: 'Scoped Bearer keys for the REST API (managed from a dashboard session only).' },
  { name: 'Webhooks', description: 'Signed HTTP callbacks for events, their delivery log and redelivery.' },
  { name: 'Audit log', description: "The organization's tamper-evident audit log and login history." },
  { name: 'Notifications', description: 'E-mail notifications about new feedback, per project.' },
  { name: 'Account', description: "The signed-in user's password, second factors and sessions (dashboard sessions only)." },
  { name: 'Authentication', description: 'Logging in and out, second factors, re-authentication and password reset.' },
  { name: 'Setup', description: "The installation's first start." },
  { name: 'Meta', description: 'This description of the API.' },
] as const;

/** How a route's access reads in the document: the credentials it takes and, for organization routes, the scope. */
function securityOf(access: Access | undefined): { security: Record<string, string[]>[]; note: string } | null {
  if (access === undefined || access === 'public') return { security: [], note: 'No authentication.' };
  if (typeof access === 'object') {
    return {
      security: [{ apiKey: [access.permission] }, { session: [] }],
      note: `Needs \`${access.permission}\`: an API key with this scope, or a dashboard session whose role has it.`,
    };
  }
  if (access === 'principal') return { security: [{ apiKey: [] }, { session: [] }], note: 'Any valid API key or dashboard session.' };
  return { security: [{ session: [] }], note: 'Dashboard sessions only; API keys are refused.' };
}

const REAUTH_NOTE = 'A session must have confirmed who it is in the last 10 minutes (`POST /api/v1/auth/reauth`), else 403 `reauth_required`; an API key needs nothing more.';

type Operation = { security?: unknown[]; parameters?: unknown[]; responses?: Record<string, unknown> };

/**
 * What every operation shares, added once to the finished document: the
 * problem answer (RFC 9457) for every error, and Idempotency-Key on every
 * POST that takes credentials (http/idempotency.ts).
 */
function addSharedParts(document: Record<string, any>) {
  document.components.schemas = {
    ...document.components.schemas,
    Problem: {
      type: 'object',
      description: 'An error (RFC 9457). Branch on `code`, which is stable; `detail` is for people.',
      required: ['type', 'title', 'status', 'detail', 'code'],
      properties: {
        type: { type: 'string', format: 'uri' },
        title: { type: 'string' },
        status: { type: 'integer' },
        detail: { type: 'string' },
        code: { type: 'string', enum: ERROR_CODES },
      },
    },
  };
  document.components.responses = {
    Problem: {
      description: 'An error, as application/problem+json. 429 answers carry Retry-After and RateLimit headers.',
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    },
  };
  document.components.parameters = {
    IdempotencyKey: {
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description: 'Makes a retry safe: the first answer is kept for 24 hours and repeated to a retry with the same key (a UUID is a good choice).',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]+$' },
    },
  };
  for (const methods of Object.values(document.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, operation] of Object.entries(methods)) {
      operation.responses = { ...operation.responses, default: { $ref: '#/components/responses/Problem' } };
      if (method === 'post' && (operation.security?.length ?? 0) > 0) {
        operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/IdempotencyKey' }];
      }
    }
  }
  return document;
}

export async function registerOpenApi(app: FastifyInstance, ctx: Context): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: '1',
        description: [
          'The REST API of Parley, the one the dashboard uses too (docs/api.md).',
          'Authenticate with an API key (`Authorization: Bearer prl_…`, created under Organization → API keys) or a dashboard session.',
          'Errors are RFC 9457 problem+json with a stable `code`. Lists page with `cursor` and `limit`; POSTs take `Idempotency-Key`;',
          'editable resources answer with an `ETag` and take `If-Match` on changes (412 `precondition_failed` when someone changed them since).',
        ].join(' '),
      },
      servers: [{ url: ctx.config.publicUrl.origin }],
      tags: TAGS.map((tag) => ({ ...tag })),
      // What Parley sends to webhook URLs (OpenAPI 3.1 `webhooks`).
      webhooks: webhookEventsDocument(),
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', bearerFormat: 'prl_ API key', description: 'Authorization: Bearer prl_… (never in the URL).' },
          session: { type: 'apiKey', in: 'cookie', name: '__Host-parley_session', description: "The dashboard's session cookie." },
        },
      },
    },
    transform: ({ schema, url, route }) => {
      const documented = url.startsWith('/api/v1/') && route.method !== 'HEAD';
      const access = securityOf(route.config?.access);
      if (!documented || !access) return { schema: { ...schema, hide: true }, url };
      const reauth = route.config?.reauth === true;
      const description = [schema?.description, access.note, reauth ? REAUTH_NOTE : undefined].filter(Boolean).join('\n\n');
      return { schema: { ...schema, security: access.security, description, ...(reauth ? { 'x-reauth': true } : {}) }, url };
    },
    transformObject: (document) => addSharedParts('openapiObject' in document ? document.openapiObject : document.swaggerObject),
  });

  app.get(
    '/api/v1/openapi.json',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Get this OpenAPI document',
        description: 'OpenAPI 3.1, generated from the schemas the server validates with. The dashboard renders it at /api-reference.',
        tags: ['Meta'],
        response: { 200: { type: 'object', additionalProperties: true } },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-cache');
      return app.swagger();
    },
  );
}
