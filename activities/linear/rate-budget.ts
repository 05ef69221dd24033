// What Linear last said about an installation's request budget. Every GraphQL response carries
// X-RateLimit-Requests-Limit/-Remaining/-Reset (and so does a RATELIMITED answer); once the remaining requests fall
// to a small reserve, the next activity waits (a retryable failure with the wait as its next retry delay) instead of
// spending the rest and running into RATELIMITED. The wait is the time the bucket needs to refill past the reserve
// (common/linear/rate-limit.ts). Kept per worker process: each worker learns the budget from its own responses, and
// Linear's own RATELIMITED answer stays the backstop.
import { MAX_RATE_LIMIT_WAIT_MS, type RequestBudget, refillWaitMs, reserveOf } from '../../common/linear/rate-limit.ts';

export { reserveOf };
/** The longest we hold back at a time: Linear refills its bucket continuously, so a short wait usually suffices. */
export const MAX_BUDGET_WAIT_MS = MAX_RATE_LIMIT_WAIT_MS;

const budgets = new Map<string, RequestBudget>();

/** Records the budget a response reported (responses without the headers leave it as it was). */
export function noteRateLimitHeaders(integrationId: string, headers: Headers | undefined, now = Date.now()): void {
  if (!headers) return;
  const limit = Number(headers.get('x-ratelimit-requests-limit'));
  const remaining = Number(headers.get('x-ratelimit-requests-remaining'));
  const resetAt = Number(headers.get('x-ratelimit-requests-reset'));
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(resetAt) || limit <= 0) return;
  if (!headers.has('x-ratelimit-requests-remaining')) return;
  budgets.set(integrationId, { limit, remaining, resetAt, reportedAt: now });
}

/** Records the budget a RATELIMITED answer reported (the SDK parses its headers into the error). */
export function noteRateLimited(
  integrationId: string,
  err: { requestsLimit?: number; requestsRemaining?: number; requestsResetAt?: number },
  now = Date.now(),
): void {
  const { requestsLimit: limit, requestsRemaining: remaining, requestsResetAt: resetAt } = err;
  if (limit === undefined || limit <= 0 || resetAt === undefined) return;
  budgets.set(integrationId, { limit, remaining: Math.max(0, remaining ?? 0), resetAt, reportedAt: now });
}

/** How long to wait before calling Linear for this installation (0: go ahead). */
export function budgetWaitMs(integrationId: string, now = Date.now()): number {
  const budget = budgets.get(integrationId);
  if (!budget) return 0;
  if (budget.resetAt <= now) {
    budgets.delete(integrationId);
    return 0;
  }
  return refillWaitMs(budget, now);
}

/** Tests: forget what was learnt. */
export function forgetBudgets(): void {
  budgets.clear();
}
