// What Linear last said about an installation's request budget. Every GraphQL response carries
// X-RateLimit-Requests-Limit/-Remaining/-Reset; once the remaining requests fall to a small reserve, the next
// activity waits (a retryable failure with the wait as its next retry delay) instead of spending the rest and
// running into RATELIMITED. Kept per worker process: each worker learns the budget from its own responses, and
// Linear's own RATELIMITED answer stays the backstop.

type Budget = { limit: number; remaining: number; resetAt: number };

/** The longest we hold back at a time: Linear refills its bucket continuously, so a short wait usually suffices. */
export const MAX_BUDGET_WAIT_MS = 60_000;

const budgets = new Map<string, Budget>();

/** Requests kept back: 1% of the hourly limit, at least 5. */
export function reserveOf(limit: number): number {
  return Math.max(5, Math.ceil(limit * 0.01));
}

/** Records the budget a response reported (responses without the headers leave it as it was). */
export function noteRateLimitHeaders(integrationId: string, headers: Headers | undefined): void {
  if (!headers) return;
  const limit = Number(headers.get('x-ratelimit-requests-limit'));
  const remaining = Number(headers.get('x-ratelimit-requests-remaining'));
  const resetAt = Number(headers.get('x-ratelimit-requests-reset'));
  if (!Number.isFinite(limit) || !Number.isFinite(remaining) || !Number.isFinite(resetAt) || limit <= 0) return;
  if (!headers.has('x-ratelimit-requests-remaining')) return;
  budgets.set(integrationId, { limit, remaining, resetAt });
}

/** How long to wait before calling Linear for this installation (0: go ahead). */
export function budgetWaitMs(integrationId: string, now = Date.now()): number {
  const budget = budgets.get(integrationId);
  if (!budget) return 0;
  if (budget.resetAt <= now) {
    budgets.delete(integrationId);
    return 0;
  }
  if (budget.remaining > reserveOf(budget.limit)) return 0;
  return Math.min(budget.resetAt - now, MAX_BUDGET_WAIT_MS);
}

/** Tests: forget what was learnt. */
export function forgetBudgets(): void {
  budgets.clear();
}
