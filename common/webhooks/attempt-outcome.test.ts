import assert from 'node:assert/strict';
import { type AttemptResult, classifyAttempt, type DeliveryErrorCode, parseRetryAfter } from './attempt-outcome.ts';

const receivedAt = Date.parse('2026-01-01T00:00:00Z');
const status = (code: number, retryAfter?: string): AttemptResult => ({
  kind: 'response',
  status: code,
  receivedAt,
  ...(retryAfter === undefined ? {} : { retryAfter }),
});

describe('classifying a delivery attempt', () => {
  it('counts every 2xx, and only 2xx, as delivered', () => {
    for (const code of [200, 201, 202, 204, 299])
      assert.deepEqual(classifyAttempt(status(code)), { verdict: 'delivered' });
    for (const code of [100, 199, 300, 400, 500]) assert.notEqual(classifyAttempt(status(code)).verdict, 'delivered');
  });

  it('treats a redirect as a failure to retry, saying it was not followed', () => {
    for (const code of [301, 302, 307, 308]) {
      assert.deepEqual(classifyAttempt(status(code)), {
        verdict: 'retry',
        reason: `HTTP ${code} redirect not followed`,
        throttle: false,
      });
    }
  });

  it('disables the endpoint on 410 Gone without retrying', () => {
    assert.deepEqual(classifyAttempt(status(410)), { verdict: 'disable_endpoint', reason: 'HTTP 410 Gone' });
  });

  it('retries other 4xx per schedule, telling transient ones (408, 409, 425) from client errors', () => {
    for (const code of [408, 409, 425])
      assert.deepEqual(classifyAttempt(status(code)), {
        verdict: 'retry',
        reason: `HTTP ${code} (transient)`,
        throttle: false,
      });
    for (const code of [400, 401, 403, 404, 422])
      assert.deepEqual(classifyAttempt(status(code)), {
        verdict: 'retry',
        reason: `HTTP ${code} (client error)`,
        throttle: false,
      });
  });

  it('honours Retry-After on 429, 502, 503 and 504, and throttles the endpoint', () => {
    for (const code of [429, 502, 503, 504]) {
      assert.deepEqual(classifyAttempt(status(code, '120')), {
        verdict: 'retry',
        reason: `HTTP ${code}`,
        throttle: true,
        retryAfterMs: 120_000,
      });
    }
    assert.deepEqual(classifyAttempt(status(503)), { verdict: 'retry', reason: 'HTTP 503', throttle: true });
  });

  it('ignores Retry-After on statuses where it does not mean "come back later"', () => {
    assert.deepEqual(classifyAttempt(status(500, '120')), {
      verdict: 'retry',
      reason: 'HTTP 500 (server error)',
      throttle: false,
    });
  });

  it('retries network failures and timeouts', () => {
    const retried: DeliveryErrorCode[] = [
      'timeout',
      'dns',
      'connection_refused',
      'connection_reset',
      'tls',
      'network',
      'invalid_response',
    ];
    for (const code of retried)
      assert.deepEqual(classifyAttempt({ kind: 'error', code }), { verdict: 'retry', reason: code, throttle: false });
  });

  it('gives up at once on refusals by our own policy, which every retry would repeat', () => {
    for (const code of ['ssrf_refused', 'invalid_url', 'payload_too_large'] as const)
      assert.deepEqual(classifyAttempt({ kind: 'error', code }), { verdict: 'give_up', reason: code });
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    assert.equal(parseRetryAfter('0', receivedAt), 0);
    assert.equal(parseRetryAfter(' 30 ', receivedAt), 30_000);
  });

  it('reads the three HTTP-date forms relative to when the response arrived, always as GMT', () => {
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', receivedAt), 60_000);
    assert.equal(parseRetryAfter('Thursday, 01-Jan-26 00:02:00 GMT', receivedAt), 120_000);
    assert.equal(parseRetryAfter('Thu Jan  1 00:03:00 2026', receivedAt), 180_000);
  });

  it('reads a date in the past as "now"', () => {
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', receivedAt), 0);
  });

  it('ignores values that are neither, rather than guessing', () => {
    for (const v of [undefined, '', '-5', '1.5', 'soon', '2026-01-01T00:01:00Z', 'Thu, 99 Foo 2026 GMT'])
      assert.equal(parseRetryAfter(v, receivedAt), undefined, String(v));
  });
});
