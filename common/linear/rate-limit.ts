// How long a Linear installation should hold back once its request budget is spent. Linear's budget is a bucket
// of `limit` requests an hour that refills continuously, not all at once at X-RateLimit-Requests-Reset (the time
// the bucket would be full again): after RATELIMITED, requests are allowed again as soon as a few have refilled.
// Waiting for the reset instead froze a link for up to an hour while it looked healthy.

/** Linear's rate-limit window: the limit is per hour. */
export const RATE_LIMIT_PERIOD_MS = 60 * 60 * 1000;
/** The longest we hold back at a time; after it we ask Linear again (its answer is the budget's truth). */
export const MAX_RATE_LIMIT_WAIT_MS = 60_000;

export type RequestBudget = {
  /** Requests per hour. */
  limit: number;
  /** Requests left when the budget was reported. */
  remaining: number;
  /** Epoch ms at which the bucket is full again. */
  resetAt: number;
  /** Epoch ms at which the budget was reported (it has been refilling since). */
  reportedAt: number;
};

/** Requests kept back: 1% of the hourly limit, at least 5. */
export function reserveOf(limit: number): number {
  return Math.max(5, Math.ceil(limit * 0.01));
}

/**
 * How long until the budget holds more than the reserve again, refilling at `limit` an hour since it was reported:
 * never past the reset, never more than MAX_RATE_LIMIT_WAIT_MS, 0 when it already does.
 */
export function refillWaitMs(budget: RequestBudget, now = Date.now()): number {
  const missing = reserveOf(budget.limit) + 1 - budget.remaining;
  if (missing <= 0 || budget.resetAt <= now) return 0;
  const refilledAt = budget.reportedAt + Math.ceil((missing * RATE_LIMIT_PERIOD_MS) / budget.limit);
  return Math.max(0, Math.min(refilledAt - now, budget.resetAt - now, MAX_RATE_LIMIT_WAIT_MS));
}
