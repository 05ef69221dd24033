import type { z } from 'zod';

// One error shape for every 4xx/5xx: { error: { code, message, details?, requestId } }.
export type ErrorDetail = { path: string; message: string };

export class RequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  constructor(status: number, code: string, message: string, details?: ErrorDetail[]) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) =>
  new RequestError(400, 'bad_request', message, details);
export const validationFailed = (message: string, details: ErrorDetail[]) =>
  new RequestError(422, 'validation_failed', message, details);
export const unauthenticated = (message = 'authentication required') =>
  new RequestError(401, 'unauthenticated', message);
export const forbidden = (message = 'your role does not allow this') => new RequestError(403, 'forbidden', message);
/** Also what another organisation's object looks like: never 403, never its data. */
export const notFound = (what: string) => new RequestError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: ErrorDetail[]) =>
  new RequestError(409, 'conflict', message, details);

/** One detail per bad field; an unknown field is named by its own path (body.severity), not its parent's. */
export function zodDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({ path: [...issue.path, key].join('.'), message: 'unknown field' }));
    return [{ path: issue.path.length ? issue.path.join('.') : '(root)', message: issue.message }];
  });
}
