import type { FastifyInstance } from 'fastify';
import type { Context } from '../context.js';
import { currentMigration, LATEST_MIGRATION } from '../db/migrate.js';
import { AppError } from '../errors.js';

export function healthRoutes(ctx: Context) {
  return async (app: FastifyInstance) => {
    // Probes run every few seconds: only their failures are worth a log line.
    // Liveness: the process answers. Nothing else is checked, so a database
    // outage does not get healthy instances restarted.
    app.get('/healthz', { config: { access: 'public' }, logLevel: 'warn' }, async () => ({ status: 'ok' }));

    // Readiness: the database answers and its schema is the one this code
    // expects. Without Redis an instance still serves, within per-instance
    // limits: it stays ready and says "degraded", since taking every instance
    // out of the load balancer would turn a Redis outage into a full one.
    app.get('/readyz', { config: { access: 'public' }, logLevel: 'warn' }, async () => {
      const version = await currentMigration(ctx.db.app).catch(() => null);
      if (version === null) throw new AppError('not_ready', 'The database is not reachable.');
      if (version !== LATEST_MIGRATION) throw new AppError('not_ready', `The database schema is at version ${version}; this Parley needs ${LATEST_MIGRATION}.`);
      const sharedState = app.shared.health();
      return { status: sharedState.degraded ? 'degraded' : 'ready', sharedState };
    });
  };
}
