// What the Linear API functions share: their dependencies, finding an installation in the caller's organisation,
// changing its sealed credentials without racing the token refresher, reading who a token is, and turning a
// failed Linear call into an HTTP answer.
import type { LinearClient } from '@linear/sdk';
import { type Database, type Executor, integrationConfigs } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { and, eq, sql } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { credentialContext, credentialsHint, sealCredentials } from '../../common/credentials.ts';
import { openJson } from '../../common/crypto/envelope.ts';
import { notFound, RequestError } from '../../common/errors.ts';
import type { LinearClientDeps } from '../../common/linear/client.ts';
import { type ClassifiedLinearFailure, classifyLinearError } from '../../common/linear/errors.ts';
import { newLinearClient } from '../../common/linear/graphql-client.ts';
import type { LinearEndpoints } from '../../common/linear/oauth.ts';
import type { Logger } from '../../common/logger.ts';
import { type LinearConfig, type LinearCredentials, linearConfigSchema } from '../integrations/linear-config.ts';

export type LinearDeps = {
  db: Database;
  keys: KeyRing;
  /** The Linear module's settings (packages/integrations/linear/settings.ts). */
  linear: LinearEndpoints;
  /** Where Linear sends webhooks and the dashboard lives. */
  publicUrl: string;
  temporal: Client | null;
  /** The queue ticket-side workflows (link sync, issue creation) run on. */
  ticketsTaskQueue: string;
  logger: Logger;
};

export function clientDeps(deps: LinearDeps): LinearClientDeps {
  return { db: deps.db, keys: deps.keys, linear: deps.linear };
}

export type InstallationRow = typeof integrationConfigs.$inferSelect;

/** A Linear installation of the organisation, or undefined for anything else (another org's, another type). */
export async function lookupInstallation(
  db: Executor,
  organizationId: string,
  integrationId: string,
): Promise<InstallationRow | undefined> {
  const [row] = await db
    .select()
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.id, integrationId),
        eq(integrationConfigs.organizationId, organizationId),
        eq(integrationConfigs.integrationType, 'linear'),
      ),
    );
  return row;
}

/** A Linear installation of the organisation; anything else (another org's, another type) is a 404. */
export async function findInstallation(
  db: Executor,
  organizationId: string,
  integrationId: string,
): Promise<InstallationRow> {
  const row = await lookupInstallation(db, organizationId, integrationId);
  if (!row) throw notFound('Linear installation');
  return row;
}

/** The stored config, with defaults; a config written before a field existed still reads. */
export function configOf(row: InstallationRow): LinearConfig {
  const parsed = linearConfigSchema.safeParse(row.config ?? {});
  return parsed.success ? parsed.data : (row.config as LinearConfig);
}

export function openCredentials(keys: KeyRing, row: InstallationRow): LinearCredentials | null {
  if (!row.credentials) return null;
  return openJson(keys, row.credentials, credentialContext(row.organizationId, row.id)) as LinearCredentials;
}

/**
 * Changes the sealed credentials under the refresher's advisory lock (common/linear/client.ts): a token refresh
 * running at the same moment would otherwise write back the credentials it read before our change.
 */
export async function updateCredentials(
  deps: Pick<LinearDeps, 'db' | 'keys'>,
  organizationId: string,
  integrationId: string,
  change: (current: LinearCredentials | null) => LinearCredentials | null,
  extra: Partial<typeof integrationConfigs.$inferInsert> = {},
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('linear-token-refresh'), hashtext(${integrationId}))`);
    const row = await findInstallation(tx, organizationId, integrationId);
    const next = change(openCredentials(deps.keys, row));
    await tx
      .update(integrationConfigs)
      .set({
        ...extra,
        credentials: next ? sealCredentials(deps.keys, organizationId, integrationId, next) : null,
        credentialsHint: next ? credentialsHint(next) : null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, organizationId)));
  });
}

export type LinearIdentity = {
  viewer: { id: string; name: string; email: string | null; app: boolean };
  organization: { id: string; name: string; urlKey: string };
};

/** Who the token acts as and in which workspace: one request. */
export async function readIdentity(client: LinearClient): Promise<LinearIdentity> {
  const { data } = await client.client.rawRequest<
    {
      viewer: { id: string; name: string; email: string | null; app: boolean | null };
      organization: { id: string; name: string; urlKey: string };
    },
    Record<string, never>
  >('query SwitchboardIdentity { viewer { id name email app } organization { id name urlKey } }', {});
  if (!data) throw new Error('Linear answered the identity query without data');
  return {
    viewer: { ...data.viewer, email: data.viewer.email ?? null, app: Boolean(data.viewer.app) },
    organization: data.organization,
  };
}

export function clientForApiKey(deps: Pick<LinearDeps, 'linear'>, apiKey: string): Promise<LinearClient> {
  return newLinearClient({ apiKey, apiUrl: deps.linear.apiUrl, signal: AbortSignal.timeout(deps.linear.timeoutMs) });
}

export function clientForAccessToken(deps: Pick<LinearDeps, 'linear'>, accessToken: string): Promise<LinearClient> {
  return newLinearClient({
    accessToken,
    apiUrl: deps.linear.apiUrl,
    signal: AbortSignal.timeout(deps.linear.timeoutMs),
  });
}

/** A Linear call failed during an API request: what the caller sees. */
export function linearHttpError(failure: ClassifiedLinearFailure): RequestError {
  switch (failure.kind) {
    case 'auth-revoked':
    case 'not-connected':
      return new RequestError(409, 'linear_not_connected', failure.message);
    case 'forbidden':
      return new RequestError(409, 'linear_forbidden', failure.message);
    case 'rate-limited':
      return new RequestError(429, 'linear_rate_limited', failure.message);
    default:
      return new RequestError(502, 'linear_unavailable', failure.message);
  }
}

/** Runs a call to Linear, turning its failure into the HTTP answer above. */
export async function callLinear<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof RequestError) throw error;
    throw linearHttpError(await classifyLinearError(error));
  }
}

export function requireTemporal(deps: Pick<LinearDeps, 'temporal'>): Client {
  if (!deps.temporal) throw new RequestError(503, 'temporal_unavailable', 'Temporal is unreachable; try again shortly');
  return deps.temporal;
}
