// The one way an activity talks to Linear: the installation's client (token refreshed if it is about to expire),
// one retry with a forced refresh when Linear refuses an OAuth token we thought valid (it expired early, or another
// process rotated it), every failure mapped to the typed ApplicationFailure the workflows branch on, and no call
// at all while the installation's request budget is down to its reserve (rate-budget.ts).
import type { LinearRawResponse } from '@linear/sdk';
import type { Database } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { KeyRing } from '../../common/config.ts';
import { type InstallationClient, linearClientFor } from '../../common/linear/client.ts';
import { isLinearNotFound, toActivityFailure } from '../../common/linear/errors.ts';
import type { LinearEndpoints } from '../../common/linear/oauth.ts';
import { loadLinearSdk } from '../../common/linear/sdk.ts';
import { linearFailureTypes } from './contract.ts';
import { noteLinkRateLimit } from './link-status.ts';
import { budgetWaitMs, noteRateLimited, noteRateLimitHeaders } from './rate-budget.ts';

export type LinearActivityDeps = {
  db: Database;
  /** The deployment's credential keys and public URL (links to tickets), and the Linear module's endpoints. */
  config: { credentialKeys: KeyRing; publicUrl: string; linear: LinearEndpoints };
  temporalClient: Client;
};

export type Installation = { organizationId: string; integrationId: string };

/**
 * Runs `fn` with the installation's client. `requests` is how many Linear requests `fn` makes at most: together
 * they get that many `config.linear.timeoutMs`, so a request Linear never answers cannot hold the activity forever.
 * `linkId`: the call is a link's (its sync step), so a wait on the rate limit shows on the link (see rateLimitWait).
 */
export async function callLinear<T>(
  deps: LinearActivityDeps,
  installation: Installation,
  fn: (linear: InstallationClient) => Promise<T>,
  options: { requests?: number; linkId?: string } = {},
): Promise<T> {
  const link = options.linkId ? { organizationId: installation.organizationId, linkId: options.linkId } : null;
  // What the link shows is secondary to the call: a note that cannot be written must neither fail a call that got
  // through (Linear would be called again) nor replace the rate limit's failure (and lose its retry delay).
  // recordSyncState clears the mark as well.
  const note = (until: Date | null) => noteLinkRateLimit(deps.db, link!, until).catch(() => undefined);
  try {
    const result = await callLinearOnce(deps, installation, fn, options.requests ?? 1);
    // Only a retried attempt can follow a wait this activity recorded; a first attempt spends no query on it.
    if (link && attempt() > 1) await note(null);
    return result;
  } catch (err) {
    const waitMs = rateLimitWait(err);
    if (link && waitMs !== null) await note(new Date(Date.now() + waitMs));
    throw err;
  }
}

async function callLinearOnce<T>(
  deps: LinearActivityDeps,
  installation: Installation,
  fn: (linear: InstallationClient) => Promise<T>,
  requests: number,
): Promise<T> {
  const clientDeps = { db: deps.db, keys: deps.config.credentialKeys, linear: deps.config.linear };
  const signal = deadline(deps.config.linear.timeoutMs * requests);
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
      if (first.kind !== 'oauth' || !(err instanceof (await loadLinearSdk()).AuthenticationLinearError)) throw err;
      const refreshed = await linearClientFor(clientDeps, organizationId, integrationId, {
        forceRefresh: true,
        signal,
      });
      return await fn(refreshed);
    }
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    // The installation's other activities in this worker hold back too, instead of each meeting RATELIMITED.
    if (err instanceof (await loadLinearSdk()).RatelimitedLinearError) noteRateLimited(integrationId, err);
    throw await toActivityFailure(err);
  }
}

/**
 * The wait of a rate-limited attempt (Temporal retries it after exactly this `nextRetryDelay`), or null for any
 * other outcome. The retry itself is Temporal's, invisible to the link's workflow; the activity that meets the rate
 * limit is the one place that knows when the next attempt is due, so it notes it on the link.
 */
function rateLimitWait(err: unknown): number | null {
  if (!(err instanceof ApplicationFailure) || err.type !== linearFailureTypes.rateLimited) return null;
  return typeof err.nextRetryDelay === 'number' ? err.nextRetryDelay : 0;
}

/** This activity's attempt (1 outside an activity: the API, tests). */
function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
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
