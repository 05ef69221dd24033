// Why an outbound POST got no HTTP response, as typed errors whose `code` is the DeliveryErrorCode recorded per
// attempt. Messages name the host at most, never the full URL: query strings often carry tokens.
import type { DeliveryErrorCode } from '../../common/webhooks/attempt-outcome.ts';

export class SafePostError extends Error {
  readonly code: DeliveryErrorCode;
  constructor(code: DeliveryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export class TimeoutError extends SafePostError {
  override name = 'TimeoutError';
  constructor(message: string, options?: ErrorOptions) {
    super('timeout', message, options);
  }
}

export class DnsError extends SafePostError {
  override name = 'DnsError';
  constructor(message: string, options?: ErrorOptions) {
    super('dns', message, options);
  }
}

export class ConnectionRefusedError extends SafePostError {
  override name = 'ConnectionRefusedError';
  constructor(message: string, options?: ErrorOptions) {
    super('connection_refused', message, options);
  }
}

export class ConnectionResetError extends SafePostError {
  override name = 'ConnectionResetError';
  constructor(message: string, options?: ErrorOptions) {
    super('connection_reset', message, options);
  }
}

export class TlsError extends SafePostError {
  override name = 'TlsError';
  constructor(message: string, options?: ErrorOptions) {
    super('tls', message, options);
  }
}

export class NetworkError extends SafePostError {
  override name = 'NetworkError';
  constructor(message: string, options?: ErrorOptions) {
    super('network', message, options);
  }
}

export class InvalidResponseError extends SafePostError {
  override name = 'InvalidResponseError';
  constructor(message: string, options?: ErrorOptions) {
    super('invalid_response', message, options);
  }
}

export class SsrfRefusedError extends SafePostError {
  override name = 'SsrfRefusedError';
  constructor(message: string) {
    super('ssrf_refused', message);
  }
}

export class InvalidUrlError extends SafePostError {
  override name = 'InvalidUrlError';
  constructor(message: string) {
    super('invalid_url', message);
  }
}

export class PayloadTooLargeError extends SafePostError {
  override name = 'PayloadTooLargeError';
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

const tlsCodes = new Set([
  'EPROTO',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'HOSTNAME_MISMATCH',
]);
// UND_ERR_SOCKET: undici's "other side closed" (the receiver closed the connection before answering).
const resetCodes = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
// undici's own timeouts (connect, headers, body), should one ever fire before the whole-request timer.
const timeoutCodes = new Set([
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
// A response undici could not take: a body longer or shorter than its content-length, headers over its limit.
const invalidResponseCodes = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
]);
const dnsCodes = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME', 'ENODATA']);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // Happy Eyeballs (several addresses tried) reports an AggregateError; its first failure says what happened.
  if (error instanceof AggregateError) return errorCode(error.errors[0]);
  return undefined;
}

/** The addresses a system error names (`err.address`, and each of a Happy Eyeballs AggregateError's). */
function addressesIn(error: unknown, found: string[] = []): string[] {
  if (typeof error !== 'object' || error === null) return found;
  const address = (error as { address?: unknown }).address;
  if (typeof address === 'string' && address !== '') found.push(address);
  if (error instanceof AggregateError) for (const inner of error.errors) addressesIn(inner, found);
  return found;
}

const IPV4_WITH_PORT = /\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b/g;

/**
 * Node names the address it connected to ("connect ECONNREFUSED 10.0.3.7:443"): the answer of a DNS lookup,
 * possibly an internal one the deployment allow-listed. Delivery errors are shown to every member of the
 * organisation, so the address is taken out and the rest (what failed, and how) kept.
 */
function withoutAddresses(message: string, error: unknown): string {
  let text = message;
  for (const address of addressesIn(error)) text = text.split(address).join('<address>');
  return text.replace(IPV4_WITH_PORT, '<address>').replace(/<address>:\d+/g, '<address>');
}

/** Maps whatever Node's net/tls stack or undici threw onto our typed errors. */
export function toSafePostError(error: unknown): SafePostError {
  if (error instanceof SafePostError) return error;
  const code = errorCode(error) ?? '';
  const message = withoutAddresses(error instanceof Error ? error.message : String(error), error);
  const options = { cause: error };
  if (code === 'ECONNREFUSED') return new ConnectionRefusedError(message, options);
  if (resetCodes.has(code)) return new ConnectionResetError(message, options);
  if (timeoutCodes.has(code)) return new TimeoutError(message, options);
  if (dnsCodes.has(code)) return new DnsError(message, options);
  if (code.startsWith('HPE_') || invalidResponseCodes.has(code)) return new InvalidResponseError(message, options);
  if (tlsCodes.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))
    return new TlsError(message, options);
  return new NetworkError(message || code, options);
}
