import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { FastifyRequest } from 'fastify';
import { actorOf, memberOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { IF_MATCH_NOTE, ifMatchVersion, setEtag, withEtag } from '../http/etag.js';
import { DateTime, NonBlankText, Text, Uuid } from '../http/schemas.js';
import { MAX_DOMAINS } from './domains.js';
import type { RefusalCounter } from '../security/refusals.js';
import { widgetSnippet } from '../widget/assets.js';
import { ProtectionSettingsSchema, type ProtectionSettings } from './protection.js';
import {
  createProject, deleteProject, getProject, getProtection, listProjects, refusalSummary, replaceCaptchaSecret, replaceIdentitySecret, updateProject, updateProtection,
  type Project, type ProjectTarget,
} from './service.js';
import { WidgetSettingsSchema, type WidgetSettings } from './widget-settings.js';

const ProjectSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  key: Type.String(),
  domains: Type.Array(Type.String()),
  settings: WidgetSettingsSchema,
  hasIdentitySecret: Type.Boolean(),
  snippet: Type.String(),
  csp: Type.Record(Type.String(), Type.Array(Type.String())),
  createdAt: DateTime,
  updatedAt: DateTime,
  /** Raised by every change of the project (settings, protection, secrets); the ETag of the project and its protection. */
  version: Type.Integer(),
});

const ProtectionSchema = Type.Object({ settings: ProtectionSettingsSchema, hasCaptchaSecret: Type.Boolean(), domains: Type.Array(Type.String()), version: Type.Integer() });
const RefusalsSchema = Type.Object({
  since: DateTime,
  total: Type.Integer(),
  reasons: Type.Array(Type.Object({ code: Type.String(), count: Type.Integer() })),
  hours: Type.Array(Type.Object({ hour: DateTime, count: Type.Integer() })),
});

const Name = NonBlankText(100);
const Domains = Type.Array(Text({ minLength: 1, maxLength: 300 }), { maxItems: MAX_DOMAINS });

const OrgParams = Type.Object({ orgId: Uuid });
const ProjectParams = Type.Object({ orgId: Uuid, projectId: Uuid });

/** The project a `:projectId` route names, as the caller may reach it (params already validated). */
function targetOf(request: FastifyRequest): ProjectTarget {
  const { orgId, projectId } = request.params as { orgId: string; projectId: string };
  return { orgId, projectId, scope: memberOf(request).projectIds };
}

// What each third-party captcha needs on the customer's page (docs/captcha.md).
const CAPTCHA_CSP: Record<string, Record<string, string[]>> = {
  recaptcha: { 'script-src': ['https://www.google.com/recaptcha/', 'https://www.gstatic.com/recaptcha/'], 'frame-src': ['https://www.google.com/recaptcha/'] },
  turnstile: { 'script-src': ['https://challenges.cloudflare.com'], 'frame-src': ['https://challenges.cloudflare.com'] },
  hcaptcha: {
    'script-src': ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
    'frame-src': ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
    'style-src': ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
    'connect-src': ['https://hcaptcha.com', 'https://*.hcaptcha.com'],
  },
};

/**
 * The Content-Security-Policy sources a customer's site must allow for the
 * widget with these settings: our script and API origin; data: and blob:
 * images for the screenshot preview; blob: workers for the proof of work (it
 * falls back to the main thread without); the chosen captcha's sources.
 */
export function hostCspDirectives(publicUrl: URL, settings: WidgetSettings, protection: ProtectionSettings): Record<string, string[]> {
  const directives: Record<string, string[]> = { 'script-src': [publicUrl.origin], 'connect-src': [publicUrl.origin] };
  if (settings.screenshot.enabled) directives['img-src'] = ['data:', 'blob:'];
  if (protection.captcha.provider === 'pow') directives['worker-src'] = ['blob:'];
  for (const [directive, sources] of Object.entries(CAPTCHA_CSP[protection.captcha.provider] ?? {})) {
    directives[directive] = [...(directives[directive] ?? []), ...sources];
  }
  return directives;
}

export function projectRoutes(ctx: Context, onProjectChanged: (key: string) => void, refusals: RefusalCounter) {
  const present = (project: Project) => ({
    ...project,
    snippet: widgetSnippet(ctx.config.publicUrl, project.key),
    csp: hostCspDirectives(ctx.config.publicUrl, project.settings, project.protection),
  });

  return async (app: FastifyInstance) => {
    const typed = app.withTypeProvider<TypeBoxTypeProvider>();

    typed.get(
      '/api/v1/orgs/:orgId/projects',
      {
        config: { access: { permission: 'project_read' } },
        schema: { summary: 'List projects', description: 'The projects the caller can see, oldest first.', tags: ['Projects'], params: OrgParams, response: { 200: Type.Object({ items: Type.Array(ProjectSchema) }) } },
      },
      async (request) => ({ items: (await listProjects(ctx.db.app, request.params.orgId, memberOf(request).projectIds)).map(present) }),
    );

    typed.post(
      '/api/v1/orgs/:orgId/projects',
      {
        config: { access: { permission: 'project_write' } },
        schema: {
          summary: 'Create a project',
          description: 'With the sites allowed to send feedback (`domains`: host names, `*.example.com` for subdomains); answers its widget key and snippet.',
          tags: ['Projects'],
          params: OrgParams,
          body: Type.Object({ name: Name, domains: Domains }, { additionalProperties: false }),
          response: { 201: ProjectSchema },
        },
      },
      async (request, reply) => {
        const project = await createProject(ctx.db.app, request.params.orgId, request.body, actorOf(request), ctx.clock.now());
        return reply.code(201).header('location', `/api/v1/orgs/${request.params.orgId}/projects/${project.id}`).send(withEtag(reply, present(project)));
      },
    );

    typed.get(
      '/api/v1/orgs/:orgId/projects/:projectId',
      { config: { access: { permission: 'project_read' } }, schema: { summary: 'Get a project', tags: ['Projects'], params: ProjectParams, response: { 200: ProjectSchema } } },
      async (request, reply) => withEtag(reply, present(await getProject(ctx.db.app, request.params.orgId, request.params.projectId, memberOf(request).projectIds))),
    );

    typed.patch(
      '/api/v1/orgs/:orgId/projects/:projectId',
      {
        config: { access: { permission: 'project_write' } },
        schema: {
          summary: 'Change a project',
          description: `Its name, allowed domains or widget settings (the whole settings object). ${IF_MATCH_NOTE}`,
          tags: ['Projects'],
          params: ProjectParams,
          body: Type.Object(
            { name: Type.Optional(Name), domains: Type.Optional(Domains), settings: Type.Optional(WidgetSettingsSchema) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: ProjectSchema },
        },
      },
      async (request, reply) => {
        const project = await updateProject(ctx.db.app, targetOf(request), request.body, ifMatchVersion(request), actorOf(request), ctx.clock.now());
        onProjectChanged(project.key);
        return withEtag(reply, present(project));
      },
    );

    typed.delete(
      '/api/v1/orgs/:orgId/projects/:projectId',
      // Everything the project collected goes with it: a recent factor is required, as for other irreversible changes.
      {
        config: { access: { permission: 'project_write' }, reauth: true },
        schema: {
          summary: 'Delete a project',
          description: `With all its feedback, screenshots, notes, webhooks and notification choices. Cannot be undone. ${IF_MATCH_NOTE}`,
          tags: ['Projects'],
          params: ProjectParams,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        onProjectChanged(await deleteProject(ctx.db.app, targetOf(request), ifMatchVersion(request), actorOf(request), ctx.clock.now()));
        return reply.code(204).send(null);
      },
    );

    typed.post(
      '/api/v1/orgs/:orgId/projects/:projectId/identity-secret',
      // A new secret is a credential, like an API key: a recent factor is required (SECURITY.md, re-authentication).
      {
        config: { access: { permission: 'project_write' }, reauth: true, secretAnswer: true },
        schema: {
          summary: 'Replace the identity secret',
          description: `A new secret for signing visitor identities (docs/widget.md); shown only in this answer. The old one stops working at once. ${IF_MATCH_NOTE}`,
          tags: ['Projects'],
          params: ProjectParams,
          response: { 201: Type.Object({ secret: Type.String(), version: Type.Integer() }) },
        },
      },
      async (request, reply) => {
        const { secret, project } = await replaceIdentitySecret(ctx.db.app, ctx.keyring, targetOf(request), ifMatchVersion(request), actorOf(request), ctx.clock.now());
        onProjectChanged(project.key);
        return reply.code(201).header('cache-control', 'no-store').send(withEtag(reply, { secret, version: project.version }));
      },
    );

    const protectionUrl = '/api/v1/orgs/:orgId/projects/:projectId/protection';

    typed.get(
      protectionUrl,
      {
        config: { access: { permission: 'project_read' } },
        schema: { summary: "Get a project's protection", description: 'Bot check, rate limits and spam rules of its ingestion endpoint.', tags: ['Projects'], params: ProjectParams, response: { 200: ProtectionSchema } },
      },
      async (request, reply) => withEtag(reply, await getProtection(ctx.db.app, targetOf(request))),
    );

    typed.put(
      protectionUrl,
      {
        config: { access: { permission: 'project_write' } },
        schema: { summary: "Replace a project's protection", description: IF_MATCH_NOTE, tags: ['Projects'], params: ProjectParams, body: ProtectionSettingsSchema, response: { 200: ProtectionSchema } },
      },
      async (request, reply) => {
        const { key, protection } = await updateProtection(ctx.db.app, targetOf(request), request.body, ifMatchVersion(request), actorOf(request), ctx.clock.now());
        onProjectChanged(key);
        return withEtag(reply, protection);
      },
    );

    typed.put(
      `${protectionUrl}/captcha-secret`,
      // A provider secret is a credential: a recent factor is required, as for the identity secret.
      {
        config: { access: { permission: 'project_write' }, reauth: true },
        schema: {
          summary: 'Store the captcha secret',
          description: `The third-party captcha provider's secret, stored sealed and never shown again. ${IF_MATCH_NOTE}`,
          tags: ['Projects'],
          params: ProjectParams,
          body: Type.Object({ secret: Text({ minLength: 1, maxLength: 500, pattern: '^[\\x21-\\x7e]+$' }) }, { additionalProperties: false }),
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        const project = await replaceCaptchaSecret(ctx.db.app, ctx.keyring, targetOf(request), request.body.secret, ifMatchVersion(request), actorOf(request), ctx.clock.now());
        onProjectChanged(project.key);
        setEtag(reply, project.version);
        return reply.code(204).send(null);
      },
    );

    typed.get(
      `${protectionUrl}/refusals`,
      {
        config: { access: { permission: 'project_read' } },
        schema: { summary: "Count a project's refusals", description: 'Submissions refused in the last 24 hours, by problem code and by hour.', tags: ['Projects'], params: ProjectParams, response: { 200: RefusalsSchema } },
      },
      async (request) => {
        await refusals.flush();
        return refusalSummary(ctx.db.app, request.params.orgId, request.params.projectId, memberOf(request).projectIds, ctx.clock.now());
      },
    );
  };
}
