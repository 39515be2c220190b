import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';

export function accountRoutes(_ctx: Context) {
  return async (_app: FastifyInstance) => {};
}
