// One interface for where attachment bytes live: the local filesystem (the default), S3-compatible object storage
// or Azure Blob. The pipeline only ever hands it ciphertext; the drivers neither know nor care.
import type { Readable } from 'node:stream';

export interface BlobStore {
  readonly driver: 'local' | 's3' | 'azure';
  /** Streams body to key; resolves with bytes written. Must not buffer the whole body in memory. Overwrites. */
  put(key: string, body: Readable): Promise<{ bytes: number }>;
  /** Reads key, or the inclusive byte range [start, end]. Throws BlobNotFoundError when missing. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Object size in bytes, or undefined when missing. */
  size(key: string): Promise<number | undefined>;
  /** Idempotent: deleting a missing key succeeds. */
  delete(key: string): Promise<void>;
  /** Server-side copy where the backend has one. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Keys under prefix with last-modified time (for the quarantine sweep). */
  list(prefix: string): AsyncIterable<{ key: string; lastModified: Date; size: number }>;
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
}
/** Connection refused, timeouts, 5xx: retry. Auth failures, missing bucket/container, 4xx: permanent. */
export class BlobStoreUnavailableError extends Error {
  override name = 'BlobStoreUnavailableError';
}
export class BlobStorePermanentError extends Error {
  override name = 'BlobStorePermanentError';
}

/**
 * Keys are the pipeline's own ("quarantine/<uuid>", "files/<org>/<uuid>"), never a user's file name, but a driver
 * that maps keys to paths or URLs must still refuse anything that could step outside its root.
 */
export function checkKey(key: string): void {
  if (key.length === 0 || key.length > 1024) throw new BlobStorePermanentError('a key must be 1 to 1024 characters');
  if (key.includes('\0')) throw new BlobStorePermanentError('a key may not contain NUL');
  if (key.startsWith('/') || key.includes('\\'))
    throw new BlobStorePermanentError('a key must be a relative path with / separators');
  for (const part of key.split('/')) {
    if (part === '' || part === '.' || part === '..')
      throw new BlobStorePermanentError(`a key may not contain empty, "." or ".." segments: ${JSON.stringify(key)}`);
  }
}

/** A range as the drivers receive it: integers, start <= end. */
export function checkRange(range: { start: number; end: number }): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start)
    throw new BlobStorePermanentError(`invalid byte range ${start}-${end}`);
}

/** Node's network error codes that mean "the server is not there right now": worth retrying. */
const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function isTransientNetworkError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && transientCodes.has(code)) return true;
    // AggregateError from happy-eyeballs connects (localhost → ::1 and 127.0.0.1) carries the codes inside.
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.some(isTransientNetworkError)) return true;
  }
  return false;
}

/** A short description of a backend error for our error messages: code and message, never credentials. */
export function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'error';
  const message = typeof e.message === 'string' ? e.message.slice(0, 300) : String(error).slice(0, 300);
  return `${code}: ${message}`;
}

/**
 * Reads up to `limit` bytes of a body. `rest` yields those bytes again followed by the remainder, pulling the body
 * only as it is read itself (backpressure holds); `ended` tells whether the body fitted. Both drivers use it to send
 * small bodies in one request and to count what they wrote. A failing body makes `rest` fail with the body's error.
 */
export async function peekBody(body: Readable, limit: number) {
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const head: Buffer[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < limit) {
    const next = await iterator.next();
    if (next.done) {
      ended = true;
      break;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    head.push(chunk);
    headBytes += chunk.length;
  }
  let bytes = headBytes;
  async function* remainder() {
    yield* head.splice(0);
    if (ended) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
      bytes += chunk.length;
      yield chunk;
    }
  }
  return {
    ended,
    head: () => Buffer.concat(head, headBytes),
    rest: remainder,
    /** Bytes read from the body so far (all of it once `rest` is exhausted). */
    bytes: () => bytes,
  };
}
