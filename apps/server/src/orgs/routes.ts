import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, memberOf, sessionOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { DateTime, OneOf, Uuid } from '../http/schemas.js';
import { getOrganization, listMemberships, ROLES } from './service.js';
import { getSecurityPolicy, setSecurityPolicy } from './security.js';

// The database's own bounds; the installation's (lower) limits are checked by
// the service, which names them in its answer.
const Policy = {
  requireMfa: Type.Boolean(),
  sessionIdleMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  sessionAbsoluteHours: Type.Integer({ minimum: 1, maximum: 720 }),
};
const PolicyAnswer = Type.Object({ ...Policy, limits: Type.Object({ idleMinutesMax: Type.Integer(), absoluteHoursMax: Type.Integer() }) });
const OrgParams = Type.Object({ orgId: Uuid });

export function orgRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs',
      {
        config: { access: 'principal' },
        schema: {
          summary: 'List the organizations you can reach',
          description: 'For a dashboard session, every organization the user belongs to; for an API key, its own organization. `role` is the user\'s (for a key, its creator\'s).',
          tags: ['Organizations'],
          response: { 200: Type.Object({ items: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), role: OneOf(ROLES) })) }) },
        },
      },
      async (request) => {
        if (request.apiKey) {
          const org = await getOrganization(ctx.db.app, request.apiKey.orgId);
          return { items: [{ id: org.id, name: org.name, role: memberOf(request).role }] };
        }
        return { items: (await listMemberships(ctx.db.app, sessionOf(request).userId)).map(({ id, name, role }) => ({ id, name, role })) };
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId',
      {
        config: { access: { permission: 'org_read' } },
        schema: {
          summary: 'Get an organization',
          tags: ['Organizations'],
          params: OrgParams,
          response: { 200: Type.Object({ id: Type.String(), name: Type.String(), createdAt: DateTime }) },
        },
      },
      async (request) => getOrganization(ctx.db.app, request.params.orgId),
    );

    typed.get(
      '/api/v1/orgs/:orgId/security',
      {
        config: { access: { permission: 'members_read' } },
        schema: {
          summary: "Get the organization's security policy",
          description: "Whether members need MFA, and session timeouts as enforced (capped by the installation's limits, which `limits` names).",
          tags: ['Organizations'],
          params: OrgParams,
          response: { 200: PolicyAnswer },
        },
      },
      async (request) => getSecurityPolicy(ctx, request.params.orgId),
    );

    typed.put(
      '/api/v1/orgs/:orgId/security',
      {
        config: { access: { permission: 'security_write' }, reauth: true },
        schema: {
          summary: "Change the organization's security policy",
          description: "Members' sessions follow the new timeouts at once; a member without a second factor must set one up when MFA becomes required.",
          tags: ['Organizations'],
          params: OrgParams,
          body: Type.Object(Policy, { additionalProperties: false }),
          response: { 200: PolicyAnswer },
        },
      },
      async (request) => setSecurityPolicy(ctx, request.params.orgId, sessionOf(request).userId, request.body, actorOf(request)),
    );
  };
}
