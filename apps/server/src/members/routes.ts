import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { actorOf, currentSession, memberOf, sessionOf } from '../auth/access.js';
import { clientOf, LoginAnswer, sendLogin } from '../auth/routes.js';
import type { Context } from '../context.js';
import { DateTime, NoContent, NonBlankText, OneOf, Text, Uuid } from '../http/schemas.js';
import { ROLES } from '../orgs/service.js';
import { acceptInvite, createInvite, listInvites, lookupInvite, revokeInvite } from './invites.js';
import { changeMember, listMembers, removeMember, type Manager } from './service.js';

const Role = OneOf(ROLES);
/** null: every project of the organization. */
const ProjectIds = Type.Union([Type.Array(Uuid, { maxItems: 200 }), Type.Null()]);

const MemberSchema = Type.Object({
  userId: Type.String(), email: Type.String(), name: Type.String(), role: Role, projectIds: ProjectIds, mfa: Type.Boolean(), joinedAt: DateTime,
});
const InviteSchema = Type.Object({
  id: Type.String(), email: Type.String(), role: Role, projectIds: ProjectIds, createdAt: DateTime, expiresAt: DateTime,
  invitedBy: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()]),
});

const OrgParams = Type.Object({ orgId: Uuid });
const MemberParams = Type.Object({ orgId: Uuid, userId: Uuid });
const Token = Text({ minLength: 1, maxLength: 200 });

function managerOf(request: FastifyRequest): Manager {
  return { userId: sessionOf(request).userId, role: memberOf(request).role, actor: actorOf(request) };
}

export function memberRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs/:orgId/members',
      {
        config: { access: { permission: 'members_read' } },
        schema: { summary: 'List members', tags: ['Members'], params: OrgParams, response: { 200: Type.Object({ items: Type.Array(MemberSchema) }) } },
      },
      async (request) => ({ items: await listMembers(ctx.db.app, request.params.orgId) }),
    );

    typed.patch(
      '/api/v1/orgs/:orgId/members/:userId',
      {
        config: { access: { permission: 'members_write' } },
        schema: {
          summary: "Change a member's role or project access",
          description: '`projectIds: null` opens every project of the organization. Nobody grants a role above their own; the last owner stays an owner.',
          tags: ['Members'],
          params: MemberParams,
          body: Type.Object({ role: Type.Optional(Role), projectIds: Type.Optional(ProjectIds) }, { additionalProperties: false, minProperties: 1 }),
          response: { 200: MemberSchema },
        },
      },
      async (request) => changeMember(ctx.db.app, request.params.orgId, managerOf(request), request.params.userId, request.body, ctx.clock.now()),
    );

    const remove = async (request: FastifyRequest, orgId: string, userId: string) =>
      removeMember(ctx.db.app, orgId, { ...managerOf(request), sessionHash: sessionOf(request).hash }, userId, ctx.clock.now());

    typed.delete(
      '/api/v1/orgs/:orgId/members/:userId',
      { config: { access: { permission: 'members_write' } }, schema: { summary: 'Remove a member', description: 'Their sessions in this organization end at once.', tags: ['Members'], params: MemberParams, response: NoContent } },
      async (request, reply) => {
        await remove(request, request.params.orgId, request.params.userId);
        return reply.code(204).send(null);
      },
    );

    // Leaving needs no management right: every member may leave (the last owner excepted).
    typed.delete(
      '/api/v1/orgs/:orgId/members/me',
      { config: { access: { permission: 'members_read' } }, schema: { summary: 'Leave the organization', description: 'The last owner cannot leave.', tags: ['Members'], params: OrgParams, response: NoContent } },
      async (request, reply) => {
        await remove(request, request.params.orgId, sessionOf(request).userId);
        return reply.code(204).send(null);
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/invites',
      {
        config: { access: { permission: 'members_write' } },
        schema: { summary: 'List pending invitations', tags: ['Invites'], params: OrgParams, response: { 200: Type.Object({ items: Type.Array(InviteSchema) }) } },
      },
      async (request) => ({ items: await listInvites(ctx, request.params.orgId) }),
    );

    typed.post(
      '/api/v1/orgs/:orgId/invites',
      {
        // The link is a credential for the invitee: an Idempotency-Key retry does not see it again.
        config: { access: { permission: 'members_write' }, secretAnswer: true },
        schema: {
          summary: 'Invite someone by e-mail',
          description: 'The answer holds the invitation link (a credential for the invitee), also sent by e-mail.',
          tags: ['Invites'],
          params: OrgParams,
          body: Type.Object(
            { email: Type.String({ format: 'email', maxLength: 254 }), role: Role, projectIds: Type.Optional(ProjectIds) },
            { additionalProperties: false },
          ),
          response: { 201: Type.Object({ invite: InviteSchema, link: Type.String() }) },
        },
      },
      async (request, reply) => {
        const session = sessionOf(request);
        const { email, role, projectIds } = request.body;
        const answer = await createInvite(ctx, request.params.orgId, { ...managerOf(request), name: session.name, email: session.email }, { email, role, projectIds: projectIds ?? null });
        // The link is a credential for the invitee: no cache keeps it.
        return reply.code(201).header('cache-control', 'no-store').send(answer);
      },
    );

    typed.delete(
      '/api/v1/orgs/:orgId/invites/:inviteId',
      {
        config: { access: { permission: 'members_write' } },
        schema: { summary: 'Revoke an invitation', tags: ['Invites'], params: Type.Object({ orgId: Uuid, inviteId: Uuid }), response: NoContent },
      },
      async (request, reply) => {
        await revokeInvite(ctx, request.params.orgId, managerOf(request), request.params.inviteId);
        return reply.code(204).send(null);
      },
    );

    typed.post(
      '/api/v1/invites/lookup',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Look up an invitation',
          description: "What an invitation link offers; `token` comes from the link's fragment.",
          tags: ['Invites'],
          body: Type.Object({ token: Token }, { additionalProperties: false }),
          response: { 200: Type.Object({ organization: Type.Object({ name: Type.String() }), email: Type.String(), role: Role, hasAccount: Type.Boolean() }) },
        },
      },
      async (request) => lookupInvite(ctx, request.body.token),
    );

    typed.post(
      '/api/v1/invites/accept',
      {
        config: { access: 'public' },
        schema: {
          summary: 'Accept an invitation',
          description: 'A new account gives `name` and `password`; an existing account must be signed in as the invited address. Answers like a login.',
          tags: ['Invites'],
          body: Type.Object(
            { token: Token, name: Type.Optional(NonBlankText(200)), password: Type.Optional(Text({ minLength: 1, maxLength: 1024 })) },
            { additionalProperties: false },
          ),
          response: { 200: LoginAnswer },
        },
      },
      async (request, reply) => {
        // Public route: a session is needed only when the invited address already has an account.
        const session = await currentSession(ctx, request, reply);
        const result = await acceptInvite(ctx, request.body, session, clientOf(request));
        return sendLogin(ctx, request, reply, result);
      },
    );
  };
}
