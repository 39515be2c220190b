import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, memberOf } from '../auth/access.js';
import type { Context } from '../context.js';
import { DateTime, NonBlankText, Text, Uuid } from '../http/schemas.js';
import { MAX_DOMAINS } from './domains.js';
import type { RefusalCounter } from '../security/refusals.js';
import { widgetSnippet } from '../widget/assets.js';
import { ProtectionSettingsSchema, type ProtectionSettings } from './protection.js';
import {
  createProject, getProject, getProtection, listProjects, refusalSummary, replaceCaptchaSecret, replaceIdentitySecret, updateProject, updateProtection, type Project,
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
});

const ProtectionSchema = Type.Object({ settings: ProtectionSettingsSchema, hasCaptchaSecret: Type.Boolean(), domains: Type.Array(Type.String()) });
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

    typed.get('/api/v1/orgs/:orgId/projects', { config: { access: { permission: 'project_read' } }, schema: { params: OrgParams, response: { 200: Type.Object({ items: Type.Array(ProjectSchema) }) } } }, async (request) => {
      return { items: (await listProjects(ctx.db.app, request.params.orgId, memberOf(request).projectIds)).map(present) };
    });

    typed.post(
      '/api/v1/orgs/:orgId/projects',
      { config: { access: { permission: 'project_write' } }, schema: { params: OrgParams, body: Type.Object({ name: Name, domains: Domains }, { additionalProperties: false }), response: { 201: ProjectSchema } } },
      async (request, reply) => {
        const project = await createProject(ctx.db.app, request.params.orgId, request.body, actorOf(request), ctx.clock.now());
        return reply.code(201).send(present(project));
      },
    );

    typed.get('/api/v1/orgs/:orgId/projects/:projectId', { config: { access: { permission: 'project_read' } }, schema: { params: ProjectParams, response: { 200: ProjectSchema } } }, async (request) => {
      return present(await getProject(ctx.db.app, request.params.orgId, request.params.projectId, memberOf(request).projectIds));
    });

    typed.patch(
      '/api/v1/orgs/:orgId/projects/:projectId',
      {
        config: { access: { permission: 'project_write' } },
        schema: {
          params: ProjectParams,
          body: Type.Object(
            { name: Type.Optional(Name), domains: Type.Optional(Domains), settings: Type.Optional(WidgetSettingsSchema) },
            { additionalProperties: false, minProperties: 1 },
          ),
          response: { 200: ProjectSchema },
        },
      },
      async (request) => {
        const { orgId, projectId } = request.params;
        const project = await updateProject(ctx.db.app, orgId, projectId, request.body, actorOf(request), ctx.clock.now());
        onProjectChanged(project.key);
        return present(project);
      },
    );

    typed.post(
      '/api/v1/orgs/:orgId/projects/:projectId/identity-secret',
      // A new secret is a credential, like an API key: a recent factor is required (SECURITY.md, re-authentication).
      { config: { access: { permission: 'project_write' }, reauth: true }, schema: { params: ProjectParams, response: { 201: Type.Object({ secret: Type.String() }) } } },
      async (request, reply) => {
        const { orgId, projectId } = request.params;
        const secret = await replaceIdentitySecret(ctx.db.app, ctx.keyring, orgId, projectId, actorOf(request), ctx.clock.now());
        const project = await getProject(ctx.db.app, orgId, projectId, memberOf(request).projectIds);
        onProjectChanged(project.key);
        return reply.code(201).header('cache-control', 'no-store').send({ secret });
      },
    );

    const protectionUrl = '/api/v1/orgs/:orgId/projects/:projectId/protection';

    typed.get(protectionUrl, { config: { access: { permission: 'project_read' } }, schema: { params: ProjectParams, response: { 200: ProtectionSchema } } }, async (request) => {
      return getProtection(ctx.db.app, request.params.orgId, request.params.projectId, memberOf(request).projectIds);
    });

    typed.put(
      protectionUrl,
      { config: { access: { permission: 'project_write' } }, schema: { params: ProjectParams, body: ProtectionSettingsSchema, response: { 200: ProtectionSchema } } },
      async (request) => {
        const { orgId, projectId } = request.params;
        const { key, protection } = await updateProtection(ctx.db.app, orgId, projectId, request.body, actorOf(request), ctx.clock.now());
        onProjectChanged(key);
        return protection;
      },
    );

    typed.put(
      `${protectionUrl}/captcha-secret`,
      // A provider secret is a credential: a recent factor is required, as for the identity secret.
      {
        config: { access: { permission: 'project_write' }, reauth: true },
        schema: { params: ProjectParams, body: Type.Object({ secret: Text({ minLength: 1, maxLength: 500, pattern: '^[\\x21-\\x7e]+$' }) }, { additionalProperties: false }) },
      },
      async (request, reply) => {
        const { orgId, projectId } = request.params;
        onProjectChanged(await replaceCaptchaSecret(ctx.db.app, ctx.keyring, orgId, projectId, request.body.secret, actorOf(request), ctx.clock.now()));
        return reply.code(204).send();
      },
    );

    typed.get(
      `${protectionUrl}/refusals`,
      { config: { access: { permission: 'project_read' } }, schema: { params: ProjectParams, response: { 200: RefusalsSchema } } },
      async (request) => {
        await refusals.flush();
        return refusalSummary(ctx.db.app, request.params.orgId, request.params.projectId, memberOf(request).projectIds, ctx.clock.now());
      },
    );
  };
}
