// Calling Slack: one WebClient per bot token (the client keeps Slack's per-method queueing), with Slack's own
// retries off so Temporal owns them, and Slack's answers turned into the failures the workflows act on:
//
//   ratelimited (429)                  retryable, next attempt after Slack's Retry-After
//   invalid_auth, token_revoked, …     SlackDisconnected (non-retryable): the workspace is marked disconnected and
//                                      the ticket's work pauses until it is installed again
//   channel_not_found, is_archived, …  SlackRefused (non-retryable): recorded on the integration, that message skipped
//   network errors, 5xx, the rest      retryable with backoff

import type { WebAPICallError, WebClient } from '@slack/web-api';
import { ApplicationFailure } from '@temporalio/common';
import { onFirstUse } from '../../common/lazy-module.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { SlackDeps } from '../../domain/slack/deps.ts';
import { botTokenOf, markWorkspaceDisconnected, type SlackWorkspace } from '../../domain/slack/installations.ts';
import { SLACK_DISCONNECTED, SLACK_REFUSED } from '../../workflows/slack-contract.ts';

/**
 * Slack's answers that mean the bot's token no longer works in the workspace. Only these disconnect it: a refusal of
 * one call (no_permission in one channel, an Enterprise policy) is that call's, not the workspace's.
 */
const DISCONNECTED = new Set(['invalid_auth', 'not_authed', 'token_revoked', 'token_expired', 'account_inactive']);

/** Slack's answers that no retry of the same call can change. */
const REFUSED = new Set([
  'no_permission',
  'team_access_not_granted',
  'org_login_required',
  'ekm_access_denied',
  'user_not_in_channel',
  'not_allowed_token_type',
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'msg_too_long',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_metadata_format',
  'invalid_metadata_schema',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'user_not_found',
  'users_not_found',
  'user_not_visible',
  'cannot_dm_bot',
  'missing_scope',
  'restricted_action',
  'invalid_arguments',
  'invalid_arg_name',
  'expired_trigger_id',
  'invalid_trigger_id',
  'method_not_supported_for_channel_type',
]);

export type SlackClients = {
  forToken(token: string): Promise<WebClient>;
  forWorkspace(workspace: SlackWorkspace): Promise<WebClient>;
};

export function slackClients(deps: Pick<SlackDeps, 'db' | 'keys' | 'settings'>): SlackClients {
  const clients = new Map<string, WebClient>();
  const forToken = async (token: string) => {
    let client = clients.get(token);
    if (!client) {
      const { LogLevel, WebClient } = await loadWebApi();
      // Another call may have made this token's client while the module loaded.
      client = clients.get(token);
      if (client) return client;
      client = new WebClient(token, {
        slackApiUrl: deps.settings.apiUrl,
        retryConfig: { retries: 0 },
        rejectRateLimitedCalls: true,
        timeout: deps.settings.timeoutMs,
        logLevel: LogLevel.ERROR,
      });
      // Tokens change only at an install; a long-lived worker keeps a bounded few.
      if (clients.size > 1000) clients.clear();
      clients.set(token, client);
    }
    return client;
  };
  return {
    forToken,
    forWorkspace: async (workspace) => forToken(await botTokenOf(deps, workspace)),
  };
}

/** The Web API client: loaded on the first call to Slack, not when the API starts (common/lazy-module.ts). */
const loadWebApi = onFirstUse(() => import('@slack/web-api'));

/** Slack's error code of a failed call (`channel_not_found`), if Slack answered with one. */
export async function slackErrorCode(error: unknown): Promise<string | undefined> {
  const { ErrorCode } = await loadWebApi();
  const e = error as Partial<WebAPICallError> | undefined;
  if (e?.code === ErrorCode.PlatformError) return (e as { data: { error: string } }).data.error;
  if (e?.code === ErrorCode.RateLimitedError) return 'ratelimited';
  return undefined;
}

/**
 * A failed call to Slack as the failure the workflow acts on (see the top of this file). Records what an admin must
 * see: a disconnection on the workspace, a refusal on the integration's last error. Never includes message text.
 */
export async function slackFailure(
  deps: Pick<SlackDeps, 'db'>,
  workspace: SlackWorkspace,
  method: string,
  error: unknown,
): Promise<Error> {
  const { ErrorCode } = await loadWebApi();
  const e = error as Partial<WebAPICallError>;
  if (e?.code === ErrorCode.RateLimitedError) {
    const seconds = Math.max(1, (e as { retryAfter: number }).retryAfter || 1);
    return ApplicationFailure.create({
      message: `Slack rate-limited ${method}: retrying after ${seconds} s (Retry-After)`,
      type: 'SlackRateLimited',
      nextRetryDelay: seconds * 1000,
    });
  }
  const code = await slackErrorCode(error);
  if (code && DISCONNECTED.has(code)) {
    await markWorkspaceDisconnected(deps, workspace.teamId, code);
    return ApplicationFailure.nonRetryable(
      `Slack refused the bot's token (${code}) on ${method}: the workspace is disconnected until the app is installed again`,
      SLACK_DISCONNECTED,
    );
  }
  if (code && REFUSED.has(code)) {
    await recordIntegrationOutcome(deps.db, workspace.organizationId, workspace.integrationId, {
      ok: false,
      error: `Slack refused ${method}: ${code}`,
    });
    return ApplicationFailure.nonRetryable(`Slack refused ${method}: ${code}`, SLACK_REFUSED);
  }
  if (e?.code === ErrorCode.HTTPError)
    return ApplicationFailure.retryable(
      `Slack answered ${method} with HTTP ${(e as { statusCode: number }).statusCode}`,
    );
  if (e?.code === ErrorCode.RequestError)
    return ApplicationFailure.retryable(`Slack could not be reached for ${method}: ${e.message}`, 'SlackUnreachable');
  return ApplicationFailure.retryable(
    `Slack ${method} failed: ${code ?? (error instanceof Error ? error.message : String(error))}`,
  );
}

/** Runs one call to Slack, turning its failure into the workflow's (slackFailure). */
export async function callSlack<T>(
  deps: Pick<SlackDeps, 'db'>,
  workspace: SlackWorkspace,
  method: string,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw await slackFailure(deps, workspace, method, error);
  }
}

/** A workspace that is known to be disconnected fails before any call, with its reason. */
export function assertConnected(workspace: SlackWorkspace): void {
  if (workspace.disconnectedReason)
    throw ApplicationFailure.nonRetryable(
      `the Slack workspace ${workspace.teamName} is disconnected (${workspace.disconnectedReason}): install the app again to resume`,
      SLACK_DISCONNECTED,
    );
}
