import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';

export function memberRoutes(_ctx: Context) {
  return async (_app: FastifyInstance) => {};
}
