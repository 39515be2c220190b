import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, sessionOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { Uuid } from '../http/schemas.js';
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
      '/api/v1/orgs/:orgId/security',
      { config: { access: { permission: 'members.read' } }, schema: { params: OrgParams, response: { 200: PolicyAnswer } } },
      async (request) => getSecurityPolicy(ctx, request.params.orgId),
    );

    typed.put(
      '/api/v1/orgs/:orgId/security',
      {
        config: { access: { permission: 'security.manage' }, reauth: true },
        schema: { params: OrgParams, body: Type.Object(Policy, { additionalProperties: false }), response: { 200: PolicyAnswer } },
      },
      async (request) => setSecurityPolicy(ctx, request.params.orgId, sessionOf(request).userId, request.body, actorOf(request)),
    );
  };
}
