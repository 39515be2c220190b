// The baseline for bench/ingest.mjs: a bare Fastify JSON POST endpoint that
// validates the same body shape as Parley's ingestion route and does nothing
// else (no database, no encryption, no security headers, no logging). Run as a
// child process so, like Parley, it does not share an event loop with the load
// generator. Prints its port on stdout once listening.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import { Type } from 'typebox';

const Submission = Type.Object(
  {
    message: Type.String({ minLength: 1, maxLength: 10_000 }),
    rating: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
    pageUrl: Type.Optional(Type.String({ maxLength: 2048 })),
    locale: Type.Optional(Type.String({ minLength: 2, maxLength: 35, pattern: '^[A-Za-z0-9-]+$' })),
    viewport: Type.Optional(Type.Object({ width: Type.Integer({ minimum: 0 }), height: Type.Integer({ minimum: 0 }) }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

const app = Fastify({ logger: false });
app.post('/feedback', { schema: { body: Submission, response: { 201: Type.Object({ id: Type.String() }) } } }, async (_request, reply) =>
  reply.code(201).send({ id: randomUUID() }),
);

await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? 0) });
process.stdout.write(`${app.server.address().port}\n`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
