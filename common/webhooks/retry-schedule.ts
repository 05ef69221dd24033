// When a webhook message is attempted again. Pure functions of their inputs (randomness is a parameter) so the
// delivery workflow can use them with its deterministic Math.random.

const second = 1000;
const minute = 60 * second;
const hour = 60 * minute;

/**
 * Delay before each attempt, the first being the initial send: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 10 h. Eight attempts spread over about 27.5 hours, like Svix, so a receiver that is down for a deploy, a night
 * or most of a day still gets the message.
 */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  0,
  5 * second,
  5 * minute,
  30 * minute,
  2 * hour,
  5 * hour,
  10 * hour,
  10 * hour,
];

export type RetryPolicy = {
  /** Delay before each attempt; its length is the number of attempts. */
  delaysMs: readonly number[];
  /** Each delay moves randomly by up to this fraction either way (0.1 = ±10%), so endpoints that failed together
   * are not retried in lockstep (a receiver recovering from overload is not knocked over again). */
  jitter: number;
  /** Every wait is divided by this, including waits a receiver asks for: tests run the day-long schedule in
   * seconds with the same code path. 1 in production. */
  compression: number;
  /** The longest wait a Retry-After header can impose. Without a cap a receiver answering "Retry-After: 31536000"
   * would park a message for a year; 10 h is the longest gap of the default schedule. */
  maxRetryAfterMs: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  delaysMs: DEFAULT_RETRY_DELAYS_MS,
  jitter: 0.1,
  compression: 1,
  maxRetryAfterMs: 10 * hour,
});

/** A policy from partial settings (an organisation's, a test's), refusing values that would make no sense. */
export function retryPolicy(settings: Partial<RetryPolicy> = {}): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...settings };
  const { delaysMs, jitter, compression, maxRetryAfterMs } = policy;
  if (delaysMs.length === 0) throw new RangeError('retry delaysMs must list at least one attempt');
  if (delaysMs.some((d) => !Number.isFinite(d) || d < 0))
    throw new RangeError('retry delaysMs must be finite, non-negative milliseconds');
  if (!(jitter >= 0 && jitter < 1)) throw new RangeError('retry jitter must be a fraction in [0, 1)');
  if (!(compression > 0 && Number.isFinite(compression))) throw new RangeError('retry compression must be positive');
  if (!(maxRetryAfterMs >= 0 && Number.isFinite(maxRetryAfterMs)))
    throw new RangeError('retry maxRetryAfterMs must be finite, non-negative milliseconds');
  return Object.freeze({ ...policy, delaysMs: Object.freeze([...delaysMs]) });
}

export function maxAttempts(policy: RetryPolicy): number {
  return policy.delaysMs.length;
}

export type NextDelayInput = {
  /** Attempts already made for this message (1 after the first send). */
  attemptsMade: number;
  /** What the receiver asked for in Retry-After, when the outcome honours it (see classifyAttempt). */
  retryAfterMs?: number;
  /** Uniform in [0, 1): Math.random inside a workflow (deterministic there), a seeded generator elsewhere. */
  random: () => number;
};

/**
 * Milliseconds to wait before the next attempt, or undefined when the schedule is exhausted.
 *
 * Retry-After can postpone an attempt but never bring it forward: the wait is the larger of the (jittered)
 * scheduled delay and the capped Retry-After. A receiver therefore cannot make us retry faster than the schedule,
 * and honouring it never costs an extra attempt.
 */
export function nextRetryDelay(policy: RetryPolicy, { attemptsMade, retryAfterMs, random }: NextDelayInput) {
  const scheduled = policy.delaysMs[attemptsMade];
  if (scheduled === undefined) return undefined;
  const jittered = scheduled * (1 + policy.jitter * (2 * random() - 1));
  const asked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, policy.maxRetryAfterMs);
  return Math.round(Math.max(jittered, asked) / policy.compression);
}
