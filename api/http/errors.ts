// One error shape for every 4xx/5xx: { error: { code, message, details?, requestId } }.
export type ErrorDetail = { path: string; message: string };

export class HttpError extends Error {
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
  new HttpError(400, 'bad_request', message, details);
export const validationFailed = (message: string, details: ErrorDetail[]) =>
  new HttpError(422, 'validation_failed', message, details);
export const unauthenticated = (message = 'authentication required') => new HttpError(401, 'unauthenticated', message);
export const forbidden = (message = 'your role does not allow this') => new HttpError(403, 'forbidden', message);
/** Also what another organisation's object looks like: never 403, never its data. */
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`);
export const conflict = (message: string, details?: ErrorDetail[]) => new HttpError(409, 'conflict', message, details);
