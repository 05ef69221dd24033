// What one delivery attempt means for the message and the endpoint. Pure, so the workflow decides from the
// activity's plain result.

/** Why an attempt got no HTTP response. Plain strings: they travel through Temporal payloads and into the database. */
export type DeliveryErrorCode =
  /** No complete response within the request timeout (15 s by default). */
  | 'timeout'
  /** The hostname did not resolve. */
  | 'dns'
  | 'connection_refused'
  /** The connection broke before a response: reset, closed, hung up. */
  | 'connection_reset'
  | 'tls'
  /** Any other network failure (unreachable host or network). */
  | 'network'
  /** The receiver answered something that is not valid HTTP. */
  | 'invalid_response'
  /** The endpoint's address is in a range deliveries may not reach (loopback, private, metadata, ...). */
  | 'ssrf_refused'
  /** The URL breaks the URL policy (scheme, plain http, credentials). */
  | 'invalid_url'
  /** The payload is over the size limit. */
  | 'payload_too_large';

export type AttemptResult =
  | {
      kind: 'response';
      status: number;
      /** The raw Retry-After header, if any. */
      retryAfter?: string;
      /** Epoch ms when the response arrived: the reference for an HTTP-date Retry-After. */
      receivedAt: number;
    }
  | { kind: 'error'; code: DeliveryErrorCode };

export type AttemptOutcome =
  | { verdict: 'delivered' }
  /** Failed; try again per the retry schedule. `throttle`: the receiver is overloaded, slow the whole endpoint. */
  | { verdict: 'retry'; reason: string; retryAfterMs?: number; throttle: boolean }
  /** Failed in a way another attempt of this message cannot fix; the endpoint keeps receiving new messages. */
  | { verdict: 'give_up'; reason: string }
  /** The receiver asked never to be called again (410 Gone): disable the endpoint, stop this message. */
  | { verdict: 'disable_endpoint'; reason: string };

/** Statuses whose Retry-After we honour and that mean "the receiver is overloaded". */
const throttlingStatuses = new Set([429, 502, 503, 504]);
/** 4xx statuses that say "not now" rather than "not this request". */
const transientClientStatuses = new Set([408, 409, 425, 429]);

/** Errors that will recur identically on every attempt because they come from our own policy, not the network. */
const permanentErrors = new Set<DeliveryErrorCode>(['ssrf_refused', 'invalid_url', 'payload_too_large']);

/**
 * The rule (Standard Webhooks' status code handling, Svix's retry behaviour):
 * - 2xx: delivered. Nothing else is.
 * - 3xx: failed and retried. Redirects are never followed: following one would let a receiver bounce our signed
 *   request to an address the SSRF check never saw; the owner should update the URL instead.
 * - 410 Gone: the receiver does not want these webhooks any more; disable the endpoint, no retry.
 * - 429, 502, 503, 504: retried, honouring Retry-After, and the endpoint is throttled.
 * - 408, 409, 425 and every other 4xx and 5xx: retried per schedule. Other 4xx (400, 401, 403, 404, 422...) are
 *   retried too, as Svix does: in practice they come from receivers mid-deploy, a route not yet live, or a secret
 *   being rotated on their side, all of which heal within the schedule; a truly broken endpoint costs eight cheap
 *   attempts and is then caught by the automatic disabling of endpoints that fail for days.
 * - Network errors and timeouts: retried.
 * - Refusals by our own policy (SSRF, URL, payload size): given up at once, since every retry would be refused
 *   identically before any connection; the message stays resendable once the endpoint is fixed.
 */
export function classifyAttempt(result: AttemptResult): AttemptOutcome {
  if (result.kind === 'error') {
    if (permanentErrors.has(result.code)) return { verdict: 'give_up', reason: result.code };
    return { verdict: 'retry', reason: result.code, throttle: false };
  }
  const { status } = result;
  if (status >= 200 && status < 300) return { verdict: 'delivered' };
  if (status === 410) return { verdict: 'disable_endpoint', reason: 'HTTP 410 Gone' };
  if (status >= 300 && status < 400)
    return { verdict: 'retry', reason: `HTTP ${status} redirect not followed`, throttle: false };
  if (throttlingStatuses.has(status)) {
    const retryAfterMs = parseRetryAfter(result.retryAfter, result.receivedAt);
    return {
      verdict: 'retry',
      reason: `HTTP ${status}`,
      throttle: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    };
  }
  const kind = transientClientStatuses.has(status) ? 'transient' : status < 500 ? 'client error' : 'server error';
  return { verdict: 'retry', reason: `HTTP ${status} (${kind})`, throttle: false };
}

/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds from `now`: delay-seconds or an HTTP-date. A date in the past
 * means "now" (0). Anything unparseable is ignored (undefined) rather than guessed at.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only accept something that looks like an HTTP-date (it names a weekday), not any string Date.parse tolerates.
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(trimmed)) return undefined;
  // HTTP-dates are always GMT; the asctime form omits the zone, which Date.parse would read as local time.
  const at = Date.parse(/ GMT$/.test(trimmed) ? trimmed : `${trimmed} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
