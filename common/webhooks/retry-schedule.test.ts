import assert from 'node:assert/strict';
import {
  DEFAULT_RETRY_DELAYS_MS,
  DEFAULT_RETRY_POLICY,
  maxAttempts,
  nextRetryDelay,
  retryPolicy,
} from './retry-schedule.ts';

const s = 1000;
const min = 60 * s;
const h = 60 * min;
const middle = () => 0.5; // no jitter either way
const lowest = () => 0;
const highest = () => 0.999999;

describe('webhook retry schedule', () => {
  it('by default attempts immediately, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h', () => {
    assert.deepEqual(DEFAULT_RETRY_DELAYS_MS, [0, 5 * s, 5 * min, 30 * min, 2 * h, 5 * h, 10 * h, 10 * h]);
    assert.equal(maxAttempts(DEFAULT_RETRY_POLICY), 8);
    const waits = [1, 2, 3, 4, 5, 6, 7].map((attemptsMade) =>
      nextRetryDelay(DEFAULT_RETRY_POLICY, { attemptsMade, random: middle }),
    );
    assert.deepEqual(waits, DEFAULT_RETRY_DELAYS_MS.slice(1));
  });

  it('gives up after the last scheduled attempt', () => {
    assert.equal(nextRetryDelay(DEFAULT_RETRY_POLICY, { attemptsMade: 8, random: middle }), undefined);
    assert.equal(nextRetryDelay(retryPolicy({ delaysMs: [0] }), { attemptsMade: 1, random: middle }), undefined);
  });

  it('moves each delay by at most the jitter fraction either way, driven only by the random function', () => {
    const policy = retryPolicy({ jitter: 0.2 });
    assert.equal(nextRetryDelay(policy, { attemptsMade: 2, random: lowest }), 4 * min);
    assert.equal(nextRetryDelay(policy, { attemptsMade: 2, random: highest }), 6 * min);
    const draws = [0.1, 0.7, 0.3];
    const replay = () => {
      let i = 0;
      return () => draws[i++ % draws.length]!;
    };
    const run = (random: () => number) => [1, 2, 3].map((n) => nextRetryDelay(policy, { attemptsMade: n, random }));
    assert.deepEqual(run(replay()), run(replay()), 'same random draws, same delays (workflow replay)');
  });

  it('compresses every delay by the compression factor, for tests', () => {
    const policy = retryPolicy({ compression: 1000, jitter: 0 });
    assert.equal(nextRetryDelay(policy, { attemptsMade: 1, random: middle }), 5);
    assert.equal(nextRetryDelay(policy, { attemptsMade: 7, random: middle }), 36 * s);
  });

  it('lets Retry-After postpone the next attempt but never bring it forward', () => {
    const policy = retryPolicy({ jitter: 0 });
    assert.equal(nextRetryDelay(policy, { attemptsMade: 1, retryAfterMs: 60 * s, random: middle }), 60 * s);
    assert.equal(nextRetryDelay(policy, { attemptsMade: 2, retryAfterMs: 1 * s, random: middle }), 5 * min);
  });

  it('caps Retry-After at maxRetryAfterMs (10 h by default) and compresses it like the schedule', () => {
    const year = 365 * 24 * h;
    assert.equal(
      nextRetryDelay(retryPolicy({ jitter: 0 }), { attemptsMade: 1, retryAfterMs: year, random: middle }),
      10 * h,
    );
    const compressed = retryPolicy({ jitter: 0, compression: 100 });
    assert.equal(nextRetryDelay(compressed, { attemptsMade: 1, retryAfterMs: 20 * s, random: middle }), 200);
  });

  it('refuses settings that make no sense, naming the setting', () => {
    assert.throws(() => retryPolicy({ delaysMs: [] }), /delaysMs must list at least one/);
    assert.throws(() => retryPolicy({ delaysMs: [0, -1] }), /delaysMs must be finite, non-negative/);
    assert.throws(() => retryPolicy({ jitter: 1 }), /jitter/);
    assert.throws(() => retryPolicy({ compression: 0 }), /compression/);
    assert.throws(() => retryPolicy({ maxRetryAfterMs: Number.POSITIVE_INFINITY }), /maxRetryAfterMs/);
  });
});
