// What a failed call to Linear means for us. The SDK raises one LinearError subclass per kind of failure; this maps
// each to what the caller should do: retry soon, retry after Linear's Retry-After, or stop and ask a person (a
// revoked token, a deleted issue, a missing scope, input Linear refuses). Activities turn the result into a typed
// ApplicationFailure; the API turns it into a 4xx/5xx.
import type { LinearError, RatelimitedLinearError } from '@linear/sdk';
import { ApplicationFailure } from '@temporalio/common';
import { linearFailureTypes } from './failure-types.ts';
import { MAX_RATE_LIMIT_WAIT_MS, refillWaitMs } from './rate-limit.ts';
import { loadLinearSdk } from './sdk.ts';

/** The installation has no usable credentials (never connected, disconnected, deleted). */
export class LinearNotConnectedError extends Error {
  override name = 'LinearNotConnectedError';
}
/** Linear refused our token and a refresh cannot fix it. */
export class LinearTokenRevokedError extends Error {
  override name = 'LinearTokenRevokedError';
}

export type LinearFailureKind =
  | 'auth-revoked'
  | 'not-connected'
  | 'issue-not-found'
  | 'forbidden'
  | 'invalid-input'
  | 'rate-limited'
  | 'transient';

export type ClassifiedLinearFailure = { kind: LinearFailureKind; message: string; retryAfterMs?: number };

export async function classifyLinearError(err: unknown): Promise<ClassifiedLinearFailure> {
  const {
    AuthenticationLinearError,
    ForbiddenLinearError,
    GraphqlLinearError,
    InvalidInputLinearError,
    LinearError,
    RatelimitedLinearError,
  } = await loadLinearSdk();
  if (err instanceof LinearNotConnectedError) return { kind: 'not-connected', message: err.message };
  if (err instanceof LinearTokenRevokedError) return { kind: 'auth-revoked', message: err.message };
  if (err instanceof RatelimitedLinearError)
    return { kind: 'rate-limited', message: 'Linear rate limit reached', retryAfterMs: rateLimitedWaitMs(err) };
  if (err instanceof AuthenticationLinearError)
    return { kind: 'auth-revoked', message: 'Linear refused the access token (revoked or expired): reconnect Linear' };
  if (err instanceof ForbiddenLinearError)
    return { kind: 'forbidden', message: `Linear refused the request: the token lacks a scope (${firstMessage(err)})` };
  if (err instanceof InvalidInputLinearError) {
    const message = firstMessage(err);
    if (await isLinearNotFound(err)) return { kind: 'issue-not-found', message: `Linear: ${message}` };
    return { kind: 'invalid-input', message: `Linear refused the input: ${message}` };
  }
  // A query the schema rejects is our bug; retrying will not fix it, so surface it like bad input.
  if (err instanceof GraphqlLinearError)
    return { kind: 'invalid-input', message: `Linear GraphQL error: ${firstMessage(err)}` };
  if (err instanceof LinearError) return { kind: 'transient', message: `Linear: ${firstMessage(err)}` };
  return { kind: 'transient', message: err instanceof Error ? err.message : String(err) };
}

/**
 * How long to wait after RATELIMITED: until the budget Linear reported has refilled past the reserve (it refills
 * continuously, so this is seconds, not the hour until X-RateLimit-Requests-Reset), else Linear's Retry-After; at
 * least a second, at most MAX_RATE_LIMIT_WAIT_MS, after which Linear is asked again.
 */
export function rateLimitedWaitMs(err: RatelimitedLinearError, now = Date.now()): number {
  const { requestsLimit: limit, requestsRemaining: remaining, requestsResetAt: resetAt } = err;
  const wait =
    limit !== undefined && limit > 0 && resetAt !== undefined
      ? refillWaitMs({ limit, remaining: Math.max(0, remaining ?? 0), resetAt, reportedAt: now }, now)
      : err.retryAfter !== undefined
        ? err.retryAfter * 1000
        : MAX_RATE_LIMIT_WAIT_MS;
  return Math.min(MAX_RATE_LIMIT_WAIT_MS, Math.max(1000, wait));
}

/** The ApplicationFailure an activity throws for a failed Linear call (transient failures stay retryable). */
export async function toActivityFailure(err: unknown): Promise<ApplicationFailure> {
  const failure = await classifyLinearError(err);
  switch (failure.kind) {
    case 'rate-limited':
      return ApplicationFailure.create({
        type: linearFailureTypes.rateLimited,
        message: failure.message,
        nonRetryable: false,
        nextRetryDelay: failure.retryAfterMs,
      });
    case 'transient':
      return ApplicationFailure.create({ type: 'LinearUnavailable', message: failure.message, nonRetryable: false });
    default:
      return ApplicationFailure.create({
        type: failureTypeOf[failure.kind],
        message: failure.message,
        nonRetryable: true,
      });
  }
}

const failureTypeOf: Record<Exclude<LinearFailureKind, 'rate-limited' | 'transient'>, string> = {
  'auth-revoked': linearFailureTypes.authRevoked,
  'not-connected': linearFailureTypes.notConnected,
  'issue-not-found': linearFailureTypes.issueNotFound,
  forbidden: linearFailureTypes.forbidden,
  'invalid-input': linearFailureTypes.invalidInput,
};

/**
 * Linear answered "Entity not found" (the id names nothing, or nothing the token may see). The SDK keeps the
 * user-presentable text ("Could not find referenced Issue.") rather than the message, so both forms count.
 */
export async function isLinearNotFound(err: unknown): Promise<boolean> {
  const { InvalidInputLinearError } = await loadLinearSdk();
  if (!(err instanceof InvalidInputLinearError)) return false;
  const messages = [err.message, ...(err.errors ?? []).map((e) => e.message ?? '')];
  return messages.some((m) => /entity not found|could not find referenced/i.test(m));
}

function firstMessage(err: LinearError): string {
  return err.errors?.[0]?.message ?? err.message;
}
