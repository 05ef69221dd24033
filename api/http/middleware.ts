// Request plumbing shared by every route: request ids, the JSON-only body rule and the one error handler.
import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { notFound, RequestError, zodDetails } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a caller's x-request-id (when it looks like an id, not an injection) or makes one; echoes it back. */
export const requestId: RequestHandler = (req, res, next) => {
  const given = req.headers['x-request-id'];
  req.id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
  res.setHeader('x-request-id', req.id);
  next();
};

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  const length = headers['content-length'];
  return headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** A write with a body must say it is JSON: anything else is a 415 before we read a byte of it. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  if (!hasBody(req.headers) || req.is('application/json')) return next();
  next(
    new RequestError(
      415,
      'unsupported_media_type',
      `request bodies must be application/json, got ${req.headers['content-type'] ?? 'no content type'}`,
    ),
  );
};

export const apiNotFound: RequestHandler = (req, _res, next) => next(notFound(`route ${req.method} ${req.path}`));

type BodyParserError = Error & { type?: string; status?: number; expose?: boolean; limit?: number };

/** Maps what can go wrong to a client-facing RequestError; undefined means "our fault" (500). */
export function toHttpError(error: unknown): RequestError | undefined {
  if (error instanceof RequestError) return error;
  if (error instanceof ZodError)
    return new RequestError(422, 'validation_failed', 'invalid request', zodDetails(error));
  const e = error as BodyParserError;
  switch (e?.type) {
    case 'entity.too.large':
      return new RequestError(413, 'payload_too_large', `request body is larger than the ${e.limit} byte limit`);
    case 'entity.parse.failed':
      return new RequestError(400, 'malformed_json', 'request body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new RequestError(415, 'unsupported_media_type', e.message);
    case 'request.aborted':
    case 'request.size.invalid':
      return new RequestError(400, 'bad_request', e.message);
  }
  return undefined;
}

/** The one place an error becomes a response: { error: { code, message, details?, requestId } }. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const httpError = toHttpError(error);
    if (!httpError) {
      logger.error({ err: error, requestId: req.id, method: req.method, path: req.path }, 'request failed');
      res.status(500).json({ error: { code: 'internal_error', message: 'internal server error', requestId: req.id } });
      return;
    }
    const body: Record<string, unknown> = { code: httpError.code, message: httpError.message };
    if (httpError.details) body.details = httpError.details;
    body.requestId = req.id;
    res.status(httpError.status).json({ error: body });
  };
}

/**
 * One structured line per request: id, method, path (no query string), status, duration. Deliberately no
 * headers or bodies: headers carry cookies and keys, bodies carry customer data. (pino-http's global
 * IncomingMessage.id typing would turn our string request id into string|number|object everywhere.)
 */
export function requestLogger(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info';
      logger[level](
        {
          requestId: req.id,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status,
          durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          actor: req.auth?.actor,
          organizationId: req.auth?.organizationId,
        },
        'request',
      );
    });
    next();
  };
}
