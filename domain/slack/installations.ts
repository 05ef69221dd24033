// Slack installations: one per workspace, each linked to the organisation whose admin added it. The "Add to Slack"
// flow is Slack's OAuth v2 run by @slack/oauth's InstallProvider, whose two stores are backed here: the state store
// (single-use states, stored as hashes, tied to the admin and organisation that started the flow) and the
// installation store (the bot token sealed like every integration credential). Uninstalling the app or revoking its
// tokens marks the workspace disconnected; its tickets' Slack work pauses with that reason and resumes when the
// workspace is installed again.
import { createHash, randomBytes } from 'node:crypto';
import type { Installation, InstallationQuery, InstallURLOptions } from '@slack/oauth';
import {
  type Database,
  type Executor,
  integrationConfigs,
  slackOauthStates,
  slackPausedThreads,
  slackWorkspaces,
} from '@switchboard/database';
import { and, eq, lt, sql } from 'drizzle-orm';
import { credentialsHint, openCredentials, sealCredentials } from '../../common/credentials.ts';
import { notFound } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import { createIntegration } from '../integrations/create-integration.ts';
import type { Scope } from '../scope.ts';
import { type SlackConfig, type SlackCredentials, slackConfigOf } from './config.ts';
import type { SlackDeps } from './deps.ts';

const STATE_TTL_MS = 10 * 60 * 1000;

/** What the flow carries through Slack and back, in the state's row, never in the URL. */
export type InstallMetadata = { organizationId: string; userId: string };

/** The refusal an admin sees on the integrations page (`?slack=error&reason=…`). */
export class SlackInstallRefused extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

const hashState = (state: string) => createHash('sha256').update(`slack-oauth-state:${state}`).digest('hex');

/** InstallProvider's StateStore, on slack_oauth_states. */
export function slackStateStore(deps: Pick<SlackDeps, 'db' | 'settings'>) {
  return {
    async generateStateParam(options: InstallURLOptions, now: Date): Promise<string> {
      const metadata = JSON.parse(options.metadata ?? '{}') as Partial<InstallMetadata>;
      if (!metadata.organizationId || !metadata.userId) throw new Error('an install is started by a signed-in admin');
      const state = randomBytes(32).toString('base64url');
      // Abandoned flows are swept here: this is the only place that adds them.
      await deps.db.delete(slackOauthStates).where(lt(slackOauthStates.expiresAt, sql`now()`));
      await deps.db.insert(slackOauthStates).values({
        stateHash: hashState(state),
        organizationId: metadata.organizationId,
        userId: metadata.userId,
        expiresAt: new Date(now.getTime() + STATE_TTL_MS),
      });
      return state;
    },
    /** Single use: the row is deleted as it is read, so a replayed state finds nothing. */
    async verifyStateParam(now: Date, state: string): Promise<InstallURLOptions> {
      const [row] = await deps.db
        .delete(slackOauthStates)
        .where(eq(slackOauthStates.stateHash, hashState(state)))
        .returning();
      if (!row || row.expiresAt.getTime() <= now.getTime())
        throw new SlackInstallRefused('invalid_state', 'the install link is unknown, used or expired: start again');
      const metadata: InstallMetadata = { organizationId: row.organizationId, userId: row.userId };
      return {
        scopes: deps.settings.scopes,
        metadata: JSON.stringify(metadata),
        redirectUri: deps.settings.redirectUri,
      };
    },
  };
}

export type SlackWorkspace = {
  teamId: string;
  teamName: string;
  integrationId: string;
  organizationId: string;
  botUserId: string;
  appId: string | null;
  disconnectedReason: string | null;
  disconnectedAt: Date | null;
  isActive: boolean;
  config: SlackConfig;
};

function toWorkspace(
  row: typeof slackWorkspaces.$inferSelect,
  integration: { isActive: boolean; config: unknown },
): SlackWorkspace {
  return {
    teamId: row.teamId,
    teamName: row.teamName,
    integrationId: row.integrationId,
    organizationId: row.organizationId,
    botUserId: row.botUserId,
    appId: row.appId,
    disconnectedReason: row.disconnectedReason,
    disconnectedAt: row.disconnectedAt,
    isActive: integration.isActive,
    config: slackConfigOf(integration.config),
  };
}

function selectWorkspaces(deps: Pick<SlackDeps, 'db'>) {
  return deps.db
    .select({ workspace: slackWorkspaces, isActive: integrationConfigs.isActive, config: integrationConfigs.config })
    .from(slackWorkspaces)
    .innerJoin(integrationConfigs, eq(integrationConfigs.id, slackWorkspaces.integrationId));
}

export async function workspaceByTeam(deps: Pick<SlackDeps, 'db'>, teamId: string): Promise<SlackWorkspace | null> {
  const [row] = await selectWorkspaces(deps).where(eq(slackWorkspaces.teamId, teamId));
  return row ? toWorkspace(row.workspace, row) : null;
}

/** An organisation's installation by id: another organisation's is a 404. */
export async function workspaceOf(
  deps: Pick<SlackDeps, 'db'>,
  organizationId: string,
  integrationId: string,
): Promise<SlackWorkspace> {
  const workspace = await findWorkspace(deps, organizationId, integrationId);
  if (!workspace) throw notFound('Slack installation');
  return workspace;
}

/**
 * The installation, or null if it was removed (or is another organisation's). A database failure is thrown, never
 * taken for a removed installation: the workflows would drop their work for it.
 */
export async function findWorkspace(
  deps: Pick<SlackDeps, 'db'>,
  organizationId: string,
  integrationId: string,
): Promise<SlackWorkspace | null> {
  const [row] = await selectWorkspaces(deps).where(
    and(eq(slackWorkspaces.integrationId, integrationId), eq(slackWorkspaces.organizationId, organizationId)),
  );
  return row ? toWorkspace(row.workspace, row) : null;
}

export async function workspacesOf(deps: Pick<SlackDeps, 'db'>, organizationId: string): Promise<SlackWorkspace[]> {
  const rows = await selectWorkspaces(deps)
    .where(eq(slackWorkspaces.organizationId, organizationId))
    .orderBy(slackWorkspaces.createdAt);
  return rows.map((row) => toWorkspace(row.workspace, row));
}

/** The bot token, for the code that calls Slack only. */
export async function botTokenOf(deps: Pick<SlackDeps, 'db' | 'keys'>, workspace: SlackWorkspace): Promise<string> {
  const [row] = await deps.db
    .select({ credentials: integrationConfigs.credentials })
    .from(integrationConfigs)
    .where(eq(integrationConfigs.id, workspace.integrationId));
  const credentials = openCredentials(
    deps.keys,
    workspace.organizationId,
    workspace.integrationId,
    row?.credentials ?? null,
  ) as SlackCredentials | null;
  if (!credentials?.botToken) throw new Error('the Slack installation has no bot token');
  return credentials.botToken;
}

/**
 * InstallProvider's storeInstallation: a new workspace becomes an installation of the admin's organisation; a
 * workspace installed again (after an uninstall, or to grant new scopes) gets the new token and its paused work
 * resumes. A workspace already linked to another organisation is refused.
 */
export async function storeSlackInstallation(
  deps: SlackDeps,
  installation: Installation<'v1' | 'v2', boolean>,
): Promise<{ integrationId: string; reconnected: boolean }> {
  const metadata = JSON.parse(installation.metadata ?? '{}') as Partial<InstallMetadata>;
  const teamId = installation.team?.id;
  const bot = installation.bot;
  if (!metadata.organizationId || !metadata.userId)
    throw new SlackInstallRefused('invalid_state', 'the install was not started from Switchboard');
  if (installation.isEnterpriseInstall || !teamId)
    throw new SlackInstallRefused(
      'enterprise_install',
      'install the app on a workspace, not on an Enterprise Grid org',
    );
  if (!bot?.token || !bot.userId) throw new SlackInstallRefused('no_bot_token', 'Slack granted no bot token');
  const scope: Scope = {
    organizationId: metadata.organizationId,
    actor: { type: 'user', id: metadata.userId },
    userId: metadata.userId,
  };
  const credentials: SlackCredentials = { botToken: bot.token, scopes: bot.scopes ?? [] };
  const teamName = installation.team?.name ?? teamId;

  let existing = await workspaceByTeam(deps, teamId);
  if (existing && existing.organizationId !== scope.organizationId) {
    // A workspace whose app was uninstalled is free again: its old organisation's installation stays, switched off
    // and saying why, and keeps none of the new organisation's work. Otherwise it belongs to its organisation.
    if (existing.disconnectedReason !== 'app_uninstalled')
      throw new SlackInstallRefused(
        'workspace_taken',
        'this Slack workspace is linked to another Switchboard organisation: uninstall the app there first',
      );
  }
  const taking = existing && existing.organizationId !== scope.organizationId ? existing : null;
  if (taking) existing = null;
  if (!existing) {
    // One transaction: an installation is never left without its workspace row (or the other way round), and a
    // concurrent install of the same workspace loses on the team id.
    let createdId: string;
    try {
      createdId = await deps.db.transaction(async (tx) => {
        // Taking over an uninstalled workspace happens in the same transaction as the new installation: either both
        // or neither (the old organisation never loses the workspace to a failed install).
        if (taking) await releaseWorkspace(tx, taking);
        const created = await createIntegration(tx as unknown as Database, deps.keys, scope, {
          integrationType: 'slack',
          name: `Slack (${teamName})`.slice(0, 200),
          config: { rules: [] },
          credentials,
        });
        await tx.insert(slackWorkspaces).values({
          teamId,
          integrationId: created.id,
          organizationId: scope.organizationId,
          teamName,
          botUserId: bot.userId!,
          appId: installation.appId ?? null,
          installedBy: metadata.userId!,
        });
        await recordAudit(tx, scope, {
          action: 'slack.connected',
          entityType: 'integration',
          entityId: created.id,
          metadata: { teamId, teamName },
        });
        return created.id;
      });
    } catch (error) {
      if (
        (error as { code?: string }).code === '23505' ||
        (error as { cause?: { code?: string } }).cause?.code === '23505'
      )
        throw new SlackInstallRefused(
          'workspace_taken',
          'the workspace was installed by someone else at the same time',
        );
      throw error;
    }
    return { integrationId: createdId, reconnected: false };
  }

  await deps.db.transaction(async (tx) => {
    await tx
      .update(integrationConfigs)
      .set({
        credentials: sealCredentials(deps.keys, scope.organizationId, existing.integrationId, credentials),
        credentialsHint: credentialsHint(credentials),
        disabledReason: null,
        updatedAt: sql`now()`,
      })
      .where(eq(integrationConfigs.id, existing.integrationId));
    const updated = await tx
      .update(slackWorkspaces)
      .set({
        teamName,
        botUserId: bot.userId!,
        appId: installation.appId ?? null,
        disconnectedReason: null,
        disconnectedAt: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(slackWorkspaces.teamId, teamId), eq(slackWorkspaces.integrationId, existing.integrationId)))
      .returning({ teamId: slackWorkspaces.teamId });
    // Another organisation took the uninstalled workspace meanwhile: this install is refused, not told connected.
    if (updated.length === 0)
      throw new SlackInstallRefused('workspace_taken', 'the workspace was connected to another organisation meanwhile');
    await recordAudit(tx, scope, {
      action: 'slack.reconnected',
      entityType: 'integration',
      entityId: existing.integrationId,
      metadata: { teamId, teamName },
    });
  });
  return { integrationId: existing.integrationId, reconnected: true };
}

/** An uninstalled workspace taken over by another organisation: the old installation is switched off, with why. */
async function releaseWorkspace(tx: Executor, workspace: SlackWorkspace): Promise<void> {
  // Only while it is still uninstalled: a reinstall by its own organisation that won the race keeps it.
  const [released] = await tx
    .delete(slackWorkspaces)
    .where(and(eq(slackWorkspaces.teamId, workspace.teamId), eq(slackWorkspaces.disconnectedReason, 'app_uninstalled')))
    .returning();
  if (!released)
    throw new SlackInstallRefused('workspace_taken', 'the workspace was connected again by its organisation');
  await tx
    .update(integrationConfigs)
    .set({
      isActive: false,
      disabledReason: 'the app was uninstalled and the workspace connected to another organisation',
      updatedAt: sql`now()`,
    })
    .where(eq(integrationConfigs.id, workspace.integrationId));
}

/** InstallProvider's and Bolt's fetchInstallation: the bot of a workspace, while it is connected. */
export async function fetchSlackInstallation(
  deps: Pick<SlackDeps, 'db' | 'keys'>,
  query: InstallationQuery<boolean>,
): Promise<Installation<'v2', false>> {
  const workspace = query.teamId ? await workspaceByTeam(deps, query.teamId) : null;
  if (!workspace || workspace.disconnectedReason) throw new Error(`no connected installation for ${query.teamId}`);
  return {
    team: { id: workspace.teamId, name: workspace.teamName },
    enterprise: undefined,
    user: { id: '', token: undefined, scopes: undefined },
    bot: {
      id: '',
      userId: workspace.botUserId,
      token: await botTokenOf(deps, workspace),
      scopes: [],
    },
    isEnterpriseInstall: false,
    authVersion: 'v2',
    ...(workspace.appId ? { appId: workspace.appId } : {}),
  };
}

/**
 * Slack told us (app_uninstalled, tokens_revoked) or a call found (invalid_auth, token_revoked) that the bot can no
 * longer act: the workspace is marked disconnected, with the reason the integrations page shows. Idempotent: the
 * first reason is kept, except that `app_uninstalled` replaces the `tokens_revoked` Slack sends just before it.
 */
export async function markWorkspaceDisconnected(
  deps: Pick<SlackDeps, 'db'>,
  teamId: string,
  reason: string,
): Promise<void> {
  const [row] = await deps.db
    .update(slackWorkspaces)
    .set({ disconnectedReason: reason, disconnectedAt: sql`now()`, updatedAt: sql`now()` })
    .where(
      and(
        eq(slackWorkspaces.teamId, teamId),
        reason === 'app_uninstalled'
          ? sql`coalesce(${slackWorkspaces.disconnectedReason}, '') <> 'app_uninstalled'`
          : sql`${slackWorkspaces.disconnectedReason} is null`,
      ),
    )
    .returning();
  if (!row) return;
  await deps.db
    .update(integrationConfigs)
    .set({
      disabledReason: `Slack disconnected (${reason}): install the app again to resume`,
      lastError: `Slack disconnected: ${reason}`,
      lastErrorAt: sql`now()`,
    })
    .where(eq(integrationConfigs.id, row.integrationId));
}

/** The token works again (checked with auth.test): the workspace is connected, the reason cleared. */
export async function markWorkspaceConnected(deps: Pick<SlackDeps, 'db'>, teamId: string): Promise<void> {
  const [row] = await deps.db
    .update(slackWorkspaces)
    .set({ disconnectedReason: null, disconnectedAt: null, updatedAt: sql`now()` })
    .where(and(eq(slackWorkspaces.teamId, teamId), sql`${slackWorkspaces.disconnectedReason} is not null`))
    .returning();
  if (row)
    await deps.db
      .update(integrationConfigs)
      .set({ disabledReason: null })
      .where(eq(integrationConfigs.id, row.integrationId));
}

/** The tickets whose Slack work waits for this installation. */
export async function pausedThreadsOf(deps: Pick<SlackDeps, 'db'>, integrationId: string) {
  return deps.db
    .select({ ticketId: slackPausedThreads.ticketId, organizationId: slackPausedThreads.organizationId })
    .from(slackPausedThreads)
    .where(eq(slackPausedThreads.integrationId, integrationId));
}
