// A Linear installation's lifecycle apart from OAuth: connecting with a personal API key, reading the teams the
// setup wizard maps, testing the connection, registering Linear's webhook (or storing the secret an admin pasted),
// and disconnecting (webhook removed and token revoked while it still works, credentials forgotten).
import { randomBytes } from 'node:crypto';
import type { LinearClient } from '@linear/sdk';
import { externalSyncRecords, integrationConfigs } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { linearFailureTypes } from '../../activities/linear/contract.ts';
import { validationFailed } from '../../common/errors.ts';
import { linearClientFor } from '../../common/linear/client.ts';
import { classifyLinearError } from '../../common/linear/errors.ts';
import { revokeToken } from '../../common/linear/oauth.ts';
import { loadLinearSdk } from '../../common/linear/sdk.ts';
import { defaultLinearToStatus, defaultStatusToLinear } from '../../workflows/linear-sync-plan.ts';
import { recordAudit } from '../audit.ts';
import { createIntegration } from '../integrations/create-integration.ts';
import type { IntegrationView } from '../integrations/schemas.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import type { z } from '../zod.ts';
import {
  callLinear,
  clientDeps,
  clientForApiKey,
  configOf,
  findInstallation,
  type InstallationRow,
  type LinearDeps,
  type LinearIdentity,
  linearHttpError,
  lookupInstallation,
  openCredentials,
  readIdentity,
  updateCredentials,
} from './installation.ts';
import {
  type linearApiKeyInput as ApiKeySchema,
  linearApiKeyInput,
  type linearConnectionTest,
  type linearTeamView,
  type linearWebhookRegistration,
  linearWebhookSecretInput,
} from './schemas.ts';
import { reconcileRunningLinks, resumeFailedLinks, signalUnlink } from './signals.ts';

type TeamView = z.infer<typeof linearTeamView>;
type ConnectionTest = z.infer<typeof linearConnectionTest>;
type WebhookRegistration = z.infer<typeof linearWebhookRegistration>;

export async function connectWithApiKey(
  deps: LinearDeps,
  scope: Scope,
  rawInput: z.input<typeof ApiKeySchema>,
): Promise<IntegrationView> {
  const input = parseInput(linearApiKeyInput, rawInput);
  let identity: LinearIdentity;
  try {
    identity = await readIdentity(await clientForApiKey(deps, input.apiKey));
  } catch (error) {
    if (error instanceof (await loadLinearSdk()).AuthenticationLinearError)
      throw validationFailed('Linear does not accept this API key', [
        { path: 'apiKey', message: 'Linear refused this key (wrong, revoked or not a personal API key)' },
      ]);
    throw linearHttpError(await classifyLinearError(error));
  }
  const created = await createIntegration(deps.db, deps.keys, scope, {
    integrationType: 'linear',
    name: input.name,
    config: { workspace: identity.organization, actor: 'user', viewerId: identity.viewer.id },
    credentials: { apiKey: input.apiKey },
  });
  await recordAudit(deps.db, scope, {
    action: 'linear.connected',
    entityType: 'integration',
    entityId: created.id,
    metadata: { method: 'apiKey', workspace: identity.organization.urlKey, credentials: 'changed' },
  });
  return created;
}

type TeamsQuery = {
  teams: {
    nodes: Array<{
      id: string;
      key: string;
      name: string;
      states: { nodes: Array<{ id: string; name: string; type: string; position: number }> };
      labels: { nodes: Array<{ id: string; name: string }> };
    }>;
  };
  issueLabels: { nodes: Array<{ id: string; name: string; team: { id: string } | null }> };
};

const TEAMS_QUERY = `query SwitchboardTeams {
  teams(first: 100) {
    nodes {
      id key name
      states(first: 100) { nodes { id name type position } }
      labels(first: 250) { nodes { id name } }
    }
  }
  issueLabels(first: 250) { nodes { id name team { id } } }
}`;

/** The workspace's teams as the setup wizard maps them: states in Linear's order, the team's and workspace labels. */
export async function listTeams(deps: LinearDeps, scope: Scope, integrationId: string): Promise<TeamView[]> {
  await findInstallation(deps.db, scope.organizationId, integrationId);
  const data = await callLinear(async () => {
    const { client } = await linearClientFor(clientDeps(deps), scope.organizationId, integrationId, {
      evenIfSwitchedOff: true,
    });
    return (await client.client.rawRequest<TeamsQuery, Record<string, never>>(TEAMS_QUERY, {})).data;
  });
  const workspaceLabels = (data?.issueLabels.nodes ?? [])
    .filter((l) => l.team === null)
    .map(({ id, name }) => ({ id, name }));
  return (data?.teams.nodes ?? [])
    .map((team) => {
      const states = [...team.states.nodes].sort((a, b) => a.position - b.position);
      return {
        id: team.id,
        key: team.key,
        name: team.name,
        states,
        labels: [...team.labels.nodes.map(({ id, name }) => ({ id, name })), ...workspaceLabels].sort((a, b) =>
          a.name.localeCompare(b.name),
        ),
        // The sync's own defaults, so what the wizard shows is what an unconfigured mapping does.
        defaultMapping: {
          statusToLinear: defaultStatusToLinear(states),
          linearToStatus: Object.fromEntries(states.map((state) => [state.id, defaultLinearToStatus(state)])),
        },
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

function webhookStatus(webhookId: string | undefined, webhookSecret: string | undefined): ConnectionTest['webhook'] {
  if (webhookId) return 'registered';
  return webhookSecret ? 'secret-set' : 'missing';
}

/** Answers whatever happens: a failure is `ok: false` with the reason, so the wizard can show it beside the button. */
export async function testConnection(deps: LinearDeps, scope: Scope, integrationId: string): Promise<ConnectionTest> {
  const row = await findInstallation(deps.db, scope.organizationId, integrationId);
  const config = configOf(row);
  const webhook = webhookStatus(config.webhookId, openCredentials(deps.keys, row)?.webhookSecret);
  const result: ConnectionTest = { ok: false, viewer: null, organization: null, team: null, webhook, error: null };
  let client: LinearClient;
  try {
    client = (await linearClientFor(clientDeps(deps), scope.organizationId, integrationId, { evenIfSwitchedOff: true }))
      .client;
    const identity = await readIdentity(client);
    result.viewer = { name: identity.viewer.name, email: identity.viewer.email, app: identity.viewer.app };
    result.organization = { name: identity.organization.name, urlKey: identity.organization.urlKey };
  } catch (error) {
    return { ...result, error: (await classifyLinearError(error)).message };
  }
  if (config.teamId) {
    try {
      const { data } = await client.client.rawRequest<
        { team: { id: string; key: string; name: string } },
        { id: string }
      >('query SwitchboardTeam($id: String!) { team(id: $id) { id key name } }', { id: config.teamId });
      result.team = data?.team ?? null;
    } catch (error) {
      const failure = await classifyLinearError(error);
      const message =
        failure.kind === 'issue-not-found'
          ? 'the configured team no longer exists in Linear (or the token cannot see it): choose another'
          : failure.message;
      return { ...result, error: message };
    }
  }
  return { ...result, ok: true };
}

/** The URL Linear posts this installation's webhooks to. */
export function inboundWebhookUrl(deps: Pick<LinearDeps, 'publicUrl'>, integrationId: string): string {
  return `${deps.publicUrl.replace(/\/+$/, '')}/api/linear/webhooks/${integrationId}`;
}

/**
 * Registers Linear's webhook for Issue and Comment changes (of the configured team, else of all public teams) with
 * a secret we generate. Without the admin scope Linear refuses: the answer then says where the admin pastes the
 * URL by hand (and PUTs the signing secret Linear shows).
 */
export async function registerWebhook(
  deps: LinearDeps,
  scope: Scope,
  integrationId: string,
): Promise<WebhookRegistration> {
  const row = await findInstallation(deps.db, scope.organizationId, integrationId);
  const config = configOf(row);
  const url = inboundWebhookUrl(deps, integrationId);
  const secret = randomBytes(32).toString('hex');
  let webhookId: string;
  let client: LinearClient;
  try {
    client = (await linearClientFor(clientDeps(deps), scope.organizationId, integrationId, { evenIfSwitchedOff: true }))
      .client;
    const { data } = await client.client.rawRequest<
      { webhookCreate: { success: boolean; webhook: { id: string } } },
      { input: Record<string, unknown> }
    >(
      'mutation SwitchboardWebhookCreate($input: WebhookCreateInput!) { webhookCreate(input: $input) { success webhook { id } } }',
      {
        input: {
          url,
          secret,
          label: 'Switchboard',
          resourceTypes: ['Issue', 'Comment'],
          // A Linear webhook follows one team or all public ones: with more teams allowed, all public ones (the
          // reconcile still catches what a private extra team's missing webhook would have said).
          ...(config.teamId && config.additionalTeamIds.length === 0
            ? { teamId: config.teamId }
            : { allPublicTeams: true }),
        },
      },
    );
    if (!data?.webhookCreate.success) throw new Error('Linear did not create the webhook');
    webhookId = data.webhookCreate.webhook.id;
  } catch (error) {
    const failure = await classifyLinearError(error);
    if (failure.kind === 'forbidden')
      return {
        registered: false,
        url,
        reason:
          'the connection lacks the admin scope, so Linear refused to register the webhook: add it in Linear → ' +
          'Settings → API → Webhooks (resources Issues and Comments), then save the signing secret Linear shows',
      };
    throw linearHttpError(failure);
  }
  const previous = config.webhookId;
  await updateCredentials(deps, scope.organizationId, integrationId, (current) => withSecret(current, secret), {
    config: { ...config, webhookId },
  });
  // Registered again: the old webhook would keep posting with a secret we no longer hold.
  if (previous && previous !== webhookId) await deleteWebhookQuietly(deps, client, previous, integrationId);
  await recordAudit(deps.db, scope, {
    action: 'linear.webhook_registered',
    entityType: 'integration',
    entityId: integrationId,
    metadata: { webhookId, secret: 'changed' },
  });
  return { registered: true, webhookId, url };
}

function withSecret(current: ReturnType<typeof openCredentials>, secret: string) {
  if (!current) throw linearHttpError({ kind: 'not-connected', message: 'the Linear installation is disconnected' });
  return { ...current, webhookSecret: secret };
}

/** The signing secret an admin copied from Linear after adding the webhook by hand. */
export async function setWebhookSecret(
  deps: LinearDeps,
  scope: Scope,
  integrationId: string,
  rawInput: unknown,
): Promise<void> {
  const { secret } = parseInput(linearWebhookSecretInput, rawInput);
  await findInstallation(deps.db, scope.organizationId, integrationId);
  await updateCredentials(deps, scope.organizationId, integrationId, (current) => withSecret(current, secret));
  await recordAudit(deps.db, scope, {
    action: 'linear.webhook_secret_set',
    entityType: 'integration',
    entityId: integrationId,
    metadata: { secret: 'changed' },
  });
}

async function deleteWebhookQuietly(
  deps: LinearDeps,
  client: LinearClient,
  webhookId: string,
  integrationId: string,
): Promise<boolean> {
  try {
    await client.client.rawRequest(
      'mutation SwitchboardWebhookDelete($id: String!) { webhookDelete(id: $id) { success } }',
      {
        id: webhookId,
      },
    );
    return true;
  } catch (error) {
    deps.logger.warn(
      { integrationId, reason: (await classifyLinearError(error)).message },
      'could not delete the Linear webhook; remove it in Linear → Settings → API → Webhooks',
    );
    return false;
  }
}

/**
 * Gives the grant back to Linear: the webhook first (deleting it needs the token), then the token. Best effort:
 * Linear being down must not keep an admin from disconnecting; what could not be undone is returned for the audit.
 */
async function releaseAtLinear(
  deps: LinearDeps,
  organizationId: string,
  integrationId: string,
): Promise<{ webhookDeleted: boolean | null; revoked: boolean | null }> {
  const row = await findInstallation(deps.db, organizationId, integrationId);
  const credentials = openCredentials(deps.keys, row);
  const { webhookId } = configOf(row);
  let webhookDeleted: boolean | null = null;
  let revoked: boolean | null = null;
  if (!credentials) return { webhookDeleted, revoked };
  if (webhookId) {
    try {
      const { client } = await linearClientFor(clientDeps(deps), organizationId, integrationId, {
        evenIfSwitchedOff: true,
      });
      webhookDeleted = await deleteWebhookQuietly(deps, client, webhookId, integrationId);
    } catch (error) {
      deps.logger.warn(
        { integrationId, reason: (await classifyLinearError(error)).message },
        'Linear webhook not deleted',
      );
      webhookDeleted = false;
    }
  }
  // A personal API key is the admin's own: only they can revoke it (in Linear's settings).
  if (credentials.accessToken) {
    // Re-read: the webhook call above may have refreshed (rotated) the token.
    const latest = openCredentials(deps.keys, await findInstallation(deps.db, organizationId, integrationId));
    try {
      await revokeToken(deps.linear, latest?.accessToken ?? credentials.accessToken);
      revoked = true;
    } catch (error) {
      deps.logger.warn({ integrationId, err: String(error) }, 'Linear token not revoked');
      revoked = false;
    }
  }
  return { webhookDeleted, revoked };
}

export async function disconnect(deps: LinearDeps, scope: Scope, integrationId: string): Promise<void> {
  const outcome = await releaseAtLinear(deps, scope.organizationId, integrationId);
  const row = await findInstallation(deps.db, scope.organizationId, integrationId);
  const { webhookId: _gone, ...config } = configOf(row);
  await updateCredentials(deps, scope.organizationId, integrationId, () => null, {
    config,
    isActive: false,
    disabledReason: 'disconnected',
  });
  await recordAudit(deps.db, scope, {
    action: 'linear.disconnected',
    entityType: 'integration',
    entityId: integrationId,
    metadata: { ...outcome, credentials: 'removed' },
  });
}

/**
 * Before the generic DELETE /api/integrations/{id} removes a Linear installation: give the grant back to Linear.
 * The returned function, called once the row (and with it the links) is gone, tells the link workflows to end.
 * Does nothing for other integration types.
 */
export async function prepareInstallationDelete(
  deps: LinearDeps,
  scope: Scope,
  integrationId: string,
): Promise<() => Promise<void>> {
  const [row] = await deps.db
    .select({ type: integrationConfigs.integrationType })
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)));
  if (row?.type !== 'linear') return async () => {};
  await releaseAtLinear(deps, scope.organizationId, integrationId);
  const links = await deps.db
    .select({ ticketId: externalSyncRecords.supportRequestId, issueId: externalSyncRecords.externalId })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, scope.organizationId),
        eq(externalSyncRecords.integrationConfigId, integrationId),
      ),
    );
  return async () => {
    const temporal = deps.temporal;
    if (!temporal) return;
    for (const link of links) {
      await signalUnlink(temporal, link.ticketId, link.issueId).catch((error: unknown) =>
        deps.logger.warn({ err: error, integrationId }, 'could not tell a Linear link workflow it was removed'),
      );
    }
  };
}

/**
 * Before the generic PATCH /api/integrations/{id} changes a Linear installation: the returned function, called once
 * the change is stored, (1) when it was switched back on, resumes the links that paused because it was off
 * (LinearNotConnected; links paused for any other reason keep waiting for their own fix), and (2) when its reconcile
 * interval changed, tells the running links to reconcile now, which also schedules their next reconcile by the new
 * interval (otherwise a link would keep the old one until its next tick, up to a day away). Does nothing for other
 * changes and types.
 */
export async function prepareInstallationUpdate(
  deps: LinearDeps,
  scope: Scope,
  integrationId: string,
  changes: { isActive?: boolean; config?: unknown },
): Promise<() => Promise<void>> {
  const before = await lookupInstallation(deps.db, scope.organizationId, integrationId);
  if (!before) return async () => {};
  const switchedOn = changes.isActive === true && !before.isActive;
  const interval = (row: InstallationRow) => configOf(row).reconcileIntervalMinutes;
  return async () => {
    if (switchedOn) await resumeFailedLinks(deps, scope.organizationId, integrationId, linearFailureTypes.notConnected);
    if (changes.config === undefined) return;
    const after = await lookupInstallation(deps.db, scope.organizationId, integrationId);
    if (after && interval(after) !== interval(before))
      await reconcileRunningLinks(deps, scope.organizationId, integrationId);
  };
}
