import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { AppError, toProblem, type ErrorCode } from '../errors.js';

export function sendProblem(reply: FastifyReply, error: AppError): FastifyReply {
  if (error.retryAfter !== undefined) reply.header('retry-after', String(Math.max(1, Math.ceil(error.retryAfter))));
  return reply.code(error.status).type('application/problem+json; charset=utf-8').send(toProblem(error));
}

// Fastify's own errors, mapped onto our codes.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'body_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
};

function fromFastifyError(error: FastifyError): AppError {
  if (error.validation) {
    const unknown = error.validation[0]?.params?.additionalProperty;
    return new AppError('validation_failed', unknown ? `${error.validationContext} has an unknown property "${String(unknown).slice(0, 64)}".` : `${error.message}.`);
  }
  const code = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (code === 'body_too_large') return new AppError(code, 'The request body is larger than this endpoint accepts.');
  if (code === 'unsupported_media_type') return new AppError(code, 'Send the body as application/json.');
  if (code) return new AppError(code, 'The body is not valid JSON, or uses a forbidden key such as __proto__.');
  // JSON.parse errors, including secure-json-parse's refusal of __proto__ and constructor keys.
  if (error instanceof SyntaxError || error.statusCode === 400) return new AppError('invalid_json', 'The body is not valid JSON, or uses a forbidden key such as __proto__.');
  if (error.statusCode === 404) return new AppError('not_found');
  if (error.statusCode === 405) return new AppError('method_not_allowed');
  if (error.statusCode === 413) return new AppError('body_too_large');
  if (error.statusCode === 415) return new AppError('unsupported_media_type');
  return new AppError('internal_error', 'Something went wrong on our side. The request id in the response headers helps us find it.');
}

/** Every error answer is RFC 9457 problem+json with a stable code; no stack trace or SQL reaches a client. */
export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = error instanceof AppError ? error : fromFastifyError(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: problem.code }, problem.detail);
    return sendProblem(reply, problem);
  });
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new AppError('not_found', `No route for ${request.method} ${request.url.split('?')[0]}.`)));
}
