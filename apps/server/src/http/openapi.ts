import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import type { Access } from '../auth/access.js';
import type { Context } from '../context.js';

// One OpenAPI 3.1 document, generated from the route schemas that also
// validate requests and serialise answers, so it cannot drift from what the
// server does. packages/client is generated from it.

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

export async function registerOpenApi(app: FastifyInstance, ctx: Context): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley API',
        version: '1',
        description: 'The REST API of Parley, the one the dashboard uses too. Errors are RFC 9457 problem+json with a stable `code`.',
      },
      servers: [{ url: ctx.config.publicUrl.origin }],
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
      const description = [schema?.description, access.note].filter(Boolean).join('\n\n');
      return { schema: { ...schema, security: access.security, description }, url };
    },
  });

  app.get('/api/v1/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    reply.header('cache-control', 'no-cache');
    return app.swagger();
  });
}
