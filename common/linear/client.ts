// A LinearClient for one installation. OAuth access tokens expire, so the loader refreshes them shortly before
// they do; Linear rotates refresh tokens (the old one is refused once used), so two processes refreshing at once
// would lock one of them out. One refresher per installation: the refresh runs under a PostgreSQL advisory lock
// keyed by the installation, and whoever waited re-reads the credentials the winner stored instead of refreshing.
import type { LinearClient } from '@linear/sdk';
import { type Database, integrationConfigs } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import type { KeyRing } from '../config.ts';
import { credentialContext, sealCredentials } from '../credentials.ts';
import { openJson } from '../crypto/envelope.ts';
import { LinearNotConnectedError, LinearTokenRevokedError } from './errors.ts';
import { newLinearClient } from './graphql-client.ts';
import { type LinearEndpoints, LinearOAuthError, refreshAccessToken } from './oauth.ts';

/**
 * The sealed credentials of a Linear installation, as stored. The API validates them with
 * linearCredentialsSchema (domain/integrations/linear-config.ts), which must produce exactly this shape.
 */
export type LinearCredentials = {
  apiKey?: string | undefined;
  accessToken?: string | undefined;
  refreshToken?: string | undefined;
  /** Epoch ms. */
  expiresAt?: number | undefined;
  scopes?: string[] | undefined;
  webhookSecret?: string | undefined;
};

export type LinearClientDeps = { db: Database; keys: KeyRing; linear: LinearEndpoints };

export type InstallationClient = {
  /** The installation (integration_configs.id) whose credential this client uses. */
  integrationId: string;
  client: LinearClient;
  kind: 'apiKey' | 'oauth';
  /** The webhook signing secret, when one is stored. */
  webhookSecret: string | null;
};

/**
 * The client for an installation, refreshing its OAuth token first if it expires within the margin (or at once with
 * `forceRefresh`, after Linear refused a token we thought valid). Throws LinearNotConnectedError when the
 * installation has no usable credentials or is switched off, and LinearTokenRevokedError when Linear refuses the
 * refresh for good. `evenIfSwitchedOff` is for an admin's own actions on the installation (listing teams, testing,
 * registering or deleting the webhook): switching off stops the syncing, not the setting up.
 */
export async function linearClientFor(
  deps: LinearClientDeps,
  organizationId: string,
  integrationId: string,
  options: { forceRefresh?: boolean; signal?: AbortSignal; evenIfSwitchedOff?: boolean } = {},
): Promise<InstallationClient> {
  const stored = await readCredentials(deps.db, deps.keys, organizationId, integrationId);
  let credentials = stored.credentials;
  if (!credentials) throw new LinearNotConnectedError('the Linear installation has no credentials: connect it again');
  if (!stored.isActive && !options.evenIfSwitchedOff)
    throw new LinearNotConnectedError('the Linear installation is switched off: switch it on to sync again');
  if (credentials.apiKey) return await clientOf(deps, integrationId, credentials, 'apiKey', options.signal);
  const expiring =
    credentials.expiresAt !== undefined && credentials.expiresAt - Date.now() < deps.linear.refreshMarginMs;
  if ((expiring || options.forceRefresh) && credentials.refreshToken)
    credentials = await refreshUnderLock(deps, organizationId, integrationId, credentials.accessToken!);
  return await clientOf(deps, integrationId, credentials, 'oauth', options.signal);
}

async function clientOf(
  deps: LinearClientDeps,
  integrationId: string,
  credentials: LinearCredentials,
  kind: 'apiKey' | 'oauth',
  signal: AbortSignal | undefined,
): Promise<InstallationClient> {
  // The SDK hands extra options to every fetch: a signal bounds all requests made with this client.
  const extra = signal ? { signal } : {};
  const client =
    kind === 'apiKey'
      ? await newLinearClient({ apiKey: credentials.apiKey!, apiUrl: deps.linear.apiUrl, ...extra })
      : await newLinearClient({ accessToken: credentials.accessToken!, apiUrl: deps.linear.apiUrl, ...extra });
  return { integrationId, client, kind, webhookSecret: credentials.webhookSecret ?? null };
}

async function refreshUnderLock(
  deps: LinearClientDeps,
  organizationId: string,
  integrationId: string,
  staleAccessToken: string,
): Promise<LinearCredentials> {
  return deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('linear-token-refresh'), hashtext(${integrationId}))`);
    const { credentials: current } = await readCredentials(
      tx as unknown as Database,
      deps.keys,
      organizationId,
      integrationId,
    );
    if (!current?.accessToken || !current.refreshToken)
      throw new LinearNotConnectedError('the Linear installation was disconnected');
    // Someone refreshed while we waited for the lock: use their token rather than spend the rotated refresh token.
    if (current.accessToken !== staleAccessToken) return current;
    let tokens: Awaited<ReturnType<typeof refreshAccessToken>>;
    try {
      tokens = await refreshAccessToken(deps.linear, current.refreshToken);
    } catch (err) {
      if (err instanceof LinearOAuthError && err.permanent)
        throw new LinearTokenRevokedError(
          `Linear refused to refresh the access token (${err.error}): reconnect Linear`,
        );
      throw err;
    }
    const next: LinearCredentials = {
      ...current,
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken ?? current.refreshToken,
      ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
      scopes: tokens.scopes.length > 0 ? tokens.scopes : current.scopes,
    };
    await tx
      .update(integrationConfigs)
      .set({ credentials: sealCredentials(deps.keys, organizationId, integrationId, next), updatedAt: sql`now()` })
      .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, organizationId)));
    return next;
  });
}

async function readCredentials(
  db: Database,
  keys: KeyRing,
  organizationId: string,
  integrationId: string,
): Promise<{ credentials: LinearCredentials | null; isActive: boolean }> {
  const [row] = await db
    .select({
      credentials: integrationConfigs.credentials,
      type: integrationConfigs.integrationType,
      isActive: integrationConfigs.isActive,
    })
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, organizationId)));
  if (row?.type !== 'linear') throw new LinearNotConnectedError('the Linear installation no longer exists');
  if (!row.credentials) return { credentials: null, isActive: row.isActive };
  const credentials = openJson(keys, row.credentials, credentialContext(organizationId, integrationId));
  return { credentials: credentials as LinearCredentials, isActive: row.isActive };
}
