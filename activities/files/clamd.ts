// Virus scanning with clamd over TCP (INSTREAM), through clamdjs.
//
// What clamdjs does, and what this wrapper adds:
// - It pipes the source through a framing transform into the socket, so backpressure holds and the file is never
//   buffered whole (clamd itself spools the stream to a temporary file up to its StreamMaxLength).
// - Its timeout is one timer started at connect and cleared only by clamd's reply, so it bounds the whole scan,
//   not idle time: timeoutMs must cover scanning the largest file (a 25 MB file takes about a second here).
// - It resolves with clamd's raw reply and its isCleanReply() reads anything that is not "OK" as infected, which
//   would call "INSTREAM size limit exceeded. ERROR" a virus. Replies are parsed here instead.
// - When clamd answers before the whole stream was sent (size limit), it rejects with a plain Error whose message
//   carries the reply ("Scan aborted. Reply from server: ..."); network failures reject with Node's error codes.
// - It does not stop the source stream or close the socket when the source fails; the wrapper destroys the source
//   on failure so an upload's file handle or socket is not left open.
import type { Readable } from 'node:stream';
import { onFirstUse } from '../../common/lazy-module.ts';

/** The clamd client: loaded by the first scan, not when the API starts (common/lazy-module.ts). */
const loadClamdjs = onFirstUse(() => import('clamdjs').then((module) => module.default));

export type ClamdEndpoint = { host: string; port: number; timeoutMs: number };
export type ScanVerdict = { verdict: 'clean' } | { verdict: 'infected'; signature: string };

/** clamd could not be reached, dropped the connection or did not answer in time: retry later (fail closed). */
export class ScannerUnavailableError extends Error {
  override name = 'ScannerUnavailableError';
}
/**
 * clamd answered with an error about this stream (size limit, a file it could not process). Retrying the same
 * bytes gives the same answer, so the file must not be served and should not be retried.
 */
export class ClamdScanError extends Error {
  override name = 'ClamdScanError';
  readonly reply: string;
  /** True when the stream was larger than clamd's StreamMaxLength. */
  readonly sizeLimitExceeded: boolean;
  constructor(reply: string) {
    super(`clamd refused the stream: ${reply}`);
    this.reply = reply;
    this.sizeLimitExceeded = /size limit exceeded/i.test(reply);
  }
}

const abortedPrefix = 'Scan aborted. Reply from server: ';

/** clamd's reply to one INSTREAM ("stream: OK", "stream: <name> FOUND", "<message> ERROR"), NUL-terminated. */
export function parseReply(raw: string): ScanVerdict {
  const reply = raw.replace(/\0/g, '').trim();
  if (reply === 'stream: OK') return { verdict: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found?.[1]) return { verdict: 'infected', signature: found[1] };
  // No answer at all: the connection closed before clamd said anything (it went away mid-scan, or what answered
  // was not clamd). Nothing was said about these bytes, so a later attempt may well scan them.
  if (reply === '') throw new ScannerUnavailableError('clamd closed the connection without an answer');
  throw new ClamdScanError(reply);
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
]);

function droppedMidStream(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

function classify(error: unknown, endpoint: ClamdEndpoint): Error {
  if (error instanceof ClamdScanError || error instanceof ScannerUnavailableError) return error;
  const { code, message } = error as { code?: unknown; message?: unknown };
  const where = `${endpoint.host}:${endpoint.port}`;
  if (typeof message === 'string' && message.startsWith(abortedPrefix)) {
    const reply = message.slice(abortedPrefix.length).replace(/\0/g, '').trim();
    // clamd closed the stream early with a reply: an answer about these bytes, unless the reply is empty, which
    // is clamd going away (stopped or restarted mid-scan).
    if (reply === '') return new ScannerUnavailableError(`clamd at ${where} closed the connection mid-scan`);
    return new ClamdScanError(reply);
  }
  if (typeof code === 'string' && unavailableCodes.has(code))
    return new ScannerUnavailableError(`clamd at ${where} is unreachable (${code})`, { cause: error });
  if (message === 'Timeout connecting to server')
    return new ScannerUnavailableError(`clamd at ${where} did not answer within ${endpoint.timeoutMs} ms`);
  return new ScannerUnavailableError(`scanning with clamd at ${where} failed (${String(message ?? error)})`, {
    cause: error,
  });
}

/** Scans a stream with clamd's INSTREAM. The stream is consumed (and destroyed on failure). */
export async function scanStream(stream: Readable, endpoint: ClamdEndpoint): Promise<ScanVerdict> {
  const clamdjs = await loadClamdjs();
  const scanner = clamdjs.createScanner(endpoint.host, endpoint.port);
  let reply: string;
  try {
    reply = await scanner.scanStream(stream, endpoint.timeoutMs);
  } catch (error) {
    stream.destroy();
    // A source that failed (a broken upload) is the caller's error, not clamd's.
    if (stream.errored && error === stream.errored) throw error;
    const classified = classify(error, endpoint);
    // clamd closes an INSTREAM past its StreamMaxLength right after its "size limit exceeded" reply; under load our
    // next write can meet the closed socket (EPIPE, ECONNRESET) before that reply is read. A clamd that still answers
    // PING at once did not go away: it refused this stream, and a retry would be refused again.
    if (classified instanceof ScannerUnavailableError && droppedMidStream(error) && (await pingClamd(endpoint)))
      throw new ClamdScanError('INSTREAM size limit exceeded. ERROR (clamd closed the stream and is still up)');
    throw classified;
  }
  return parseReply(reply);
}

/** True when clamd answers PING with PONG; false when it does not answer (never throws). */
export async function pingClamd(endpoint: ClamdEndpoint): Promise<boolean> {
  // clamdjs's ping sets a socket timeout without handling it, so a clamd that accepts and never answers would
  // hang it: bound it here.
  const clamdjs = await loadClamdjs();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), endpoint.timeoutMs);
  });
  try {
    return await Promise.race([clamdjs.ping(endpoint.host, endpoint.port, endpoint.timeoutMs), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
