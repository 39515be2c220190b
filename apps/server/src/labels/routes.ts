import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { IF_MATCH_NOTE, ifMatchVersion, withEtag } from '../http/etag.js';
import { DateTime, NonBlankText, Uuid } from '../http/schemas.js';
import { createLabel, deleteLabel, listLabels, MAX_LABELS, updateLabel } from './service.js';

const LabelSchema = Type.Object({ id: Type.String(), name: Type.String(), color: Type.String(), version: Type.Integer(), createdAt: DateTime, updatedAt: DateTime });
const Name = NonBlankText(50);
const Color = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb (stored in lower case)' });
const OrgParams = Type.Object({ orgId: Uuid });
const LabelParams = Type.Object({ orgId: Uuid, labelId: Uuid });

export function labelRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs/:orgId/labels',
      {
        config: { access: { permission: 'feedback_read' } },
        schema: { summary: 'List labels', description: 'Every label of the organization, by name.', tags: ['Labels'], params: OrgParams, response: { 200: Type.Object({ items: Type.Array(LabelSchema) }) } },
      },
      async (request) => ({ items: await listLabels(ctx.db.app, request.params.orgId) }),
    );

    typed.post(
      '/api/v1/orgs/:orgId/labels',
      {
        config: { access: { permission: 'labels_write' } },
        schema: {
          summary: 'Create a label',
          description: `Names are 1 to 50 characters and unique whatever their case (409 conflict otherwise); at most ${MAX_LABELS} labels per organization.`,
          tags: ['Labels'],
          params: OrgParams,
          body: Type.Object({ name: Name, color: Color }, { additionalProperties: false }),
          response: { 201: LabelSchema },
        },
      },
      async (request, reply) => {
        const label = await createLabel(ctx.db.app, request.params.orgId, request.body, actorOf(request), ctx.clock.now());
        return reply.code(201).send(withEtag(reply, label));
      },
    );

    typed.patch(
      '/api/v1/orgs/:orgId/labels/:labelId',
      {
        config: { access: { permission: 'labels_write' } },
        schema: {
          summary: 'Rename or recolour a label',
          description: IF_MATCH_NOTE,
          tags: ['Labels'],
          params: LabelParams,
          body: Type.Object({ name: Type.Optional(Name), color: Type.Optional(Color) }, { additionalProperties: false, minProperties: 1 }),
          response: { 200: LabelSchema },
        },
      },
      async (request, reply) => {
        const { orgId, labelId } = request.params;
        return withEtag(reply, await updateLabel(ctx.db.app, orgId, labelId, request.body, ifMatchVersion(request), actorOf(request), ctx.clock.now()));
      },
    );

    typed.delete(
      '/api/v1/orgs/:orgId/labels/:labelId',
      {
        config: { access: { permission: 'labels_write' } },
        schema: { summary: 'Delete a label', description: `It is taken off every feedback that had it. ${IF_MATCH_NOTE}`, tags: ['Labels'], params: LabelParams, response: { 204: Type.Null() } },
      },
      async (request, reply) => {
        const { orgId, labelId } = request.params;
        await deleteLabel(ctx.db.app, orgId, labelId, ifMatchVersion(request), actorOf(request), ctx.clock.now());
        return reply.code(204).send(null);
      },
    );
  };
}
