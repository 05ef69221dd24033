// The one way an activity talks to Linear: the installation's client (token refreshed if it is about to expire),
// one retry with a forced refresh when Linear refuses an OAuth token we thought valid (it expired early, or another
// process rotated it), every failure mapped to the typed ApplicationFailure the workflows branch on, and no call
// at all while the installation's request budget is down to its reserve (rate-budget.ts).
import { AuthenticationLinearError, type LinearRawResponse, RatelimitedLinearError } from '@linear/sdk';
import type { Database } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../../common/config.ts';
import { type InstallationClient, linearClientFor } from '../../common/linear/client.ts';
import { isLinearNotFound, toActivityFailure } from '../../common/linear/errors.ts';
import { linearFailureTypes } from './contract.ts';
import { budgetWaitMs, noteRateLimited, noteRateLimitHeaders } from './rate-budget.ts';

export type LinearActivityDeps = {
  db: Database;
  config: Pick<Config, 'credentialKeys' | 'linear' | 'publicUrl'>;
  temporalClient: Client;
};

export type Installation = { organizationId: string; integrationId: string };

/**
 * Runs `fn` with the installation's client. `requests` is how many Linear requests `fn` makes at most: together
 * they get that many `config.linear.timeoutMs`, so a request Linear never answers cannot hold the activity forever.
 */
export async function callLinear<T>(
  deps: LinearActivityDeps,
  installation: Installation,
  fn: (linear: InstallationClient) => Promise<T>,
  options: { requests?: number } = {},
): Promise<T> {
  const clientDeps = { db: deps.db, keys: deps.config.credentialKeys, linear: deps.config.linear };
  const signal = deadline(deps.config.linear.timeoutMs * (options.requests ?? 1));
  const { organizationId, integrationId } = installation;
  const waitMs = budgetWaitMs(integrationId);
  if (waitMs > 0)
    throw ApplicationFailure.create({
      type: linearFailureTypes.rateLimited,
      message: 'the Linear request budget of this installation is nearly spent: waiting for it to refill',
      nonRetryable: false,
      nextRetryDelay: waitMs,
    });
  try {
    const first = await linearClientFor(clientDeps, organizationId, integrationId, { signal });
    try {
      return await fn(first);
    } catch (err) {
      if (first.kind !== 'oauth' || !(err instanceof AuthenticationLinearError)) throw err;
      const refreshed = await linearClientFor(clientDeps, organizationId, integrationId, {
        forceRefresh: true,
        signal,
      });
      return await fn(refreshed);
    }
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    // The installation's other activities in this worker hold back too, instead of each meeting RATELIMITED.
    if (err instanceof RatelimitedLinearError) noteRateLimited(integrationId, err);
    throw toActivityFailure(err);
  }
}

/** A raw GraphQL request (one round trip for what the SDK's lazy models would fetch in several). */
export async function rawRequest<T>(
  linear: InstallationClient,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const response = (await linear.client.client.rawRequest(query, variables)) as LinearRawResponse<T>;
  noteRateLimitHeaders(linear.integrationId, response.headers);
  return response.data as T;
}

/** Linear answered "Entity not found" (the id names nothing, or nothing this token may see). */
export const isNotFound = isLinearNotFound;

/** The activity's cancellation (when running in one) and a timeout, whichever comes first. */
function deadline(ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  try {
    return AbortSignal.any([timeout, Context.current().cancellationSignal]);
  } catch {
    // Called outside an activity (the API, tests): the timeout alone.
    return timeout;
  }
}

/** A non-retryable failure of our own making (bad input, missing configuration). */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'LinearInvalidInput', message, nonRetryable: true });
}
