import fs from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors.js';
import { REPO_ROOT } from '../paths.js';

const DIST = path.join(REPO_ROOT, 'apps/dashboard/dist');

/** Serves the built dashboard: hashed assets, and index.html for every client-side route. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const index = fs.existsSync(path.join(DIST, 'index.html')) ? fs.readFileSync(path.join(DIST, 'index.html')) : null;
  // Only reply.sendFile from the plugin: our own route declares its access like every other.
  await app.register(fastifyStatic, { root: path.join(DIST, 'assets'), serve: false });
  app.get('/assets/*', { config: { access: 'public' } }, async (request, reply) => {
    if (!index) throw new AppError('not_found');
    const file = (request.params as { '*': string })['*'];
    return reply.sendFile(file, { immutable: true, maxAge: '365d', dotfiles: 'deny', index: false });
  });
  const page = async (_request: unknown, reply: import('fastify').FastifyReply) => {
    if (!index) throw new AppError('not_found', 'The dashboard is not built. Run npm run build.');
    return reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-cache').send(index);
  };
  for (const route of ['/', '/login', '/setup', '/forgot-password', '/reset-password', '/invite', '/api-reference', '/account/*', '/orgs/*']) {
    app.get(route, { config: { access: 'public' } }, page);
  }
}
