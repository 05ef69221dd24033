// Connecting Linear with OAuth 2.0 (authorization code + PKCE). `startLinearAuthorization` remembers the state and
// the PKCE verifier (sealed) for the admin and the browser session that asked; `completeLinearAuthorization` runs
// when Linear sends that browser back: the state must be its session's, fresh and unused, then the code is
// exchanged and the installation created, or, when reconnecting, given the new grant (its links resume).
import { createHash } from 'node:crypto';
import { linearOauthStates } from '@switchboard/database';
import { and, eq, lt, sql } from 'drizzle-orm';
import { openJson, sealJson } from '../../common/crypto/envelope.ts';
import { conflict, RequestError } from '../../common/errors.ts';
import {
  buildAuthorizeUrl,
  createPkcePair,
  exchangeAuthorizationCode,
  hashOAuthState,
  LinearOAuthError,
  type LinearTokenSet,
  newOAuthState,
} from '../../common/linear/oauth.ts';
import { recordAudit } from '../audit.ts';
import { createIntegration } from '../integrations/create-integration.ts';
import type { LinearCredentials } from '../integrations/linear-config.ts';
import type { Scope } from '../scope.ts';
import {
  clientForAccessToken,
  configOf,
  findInstallation,
  type LinearDeps,
  type LinearIdentity,
  readIdentity,
  updateCredentials,
} from './installation.ts';
import { resumeFailedLinks } from './signals.ts';

/** How long an admin has to approve in Linear. */
const STATE_TTL_MS = 10 * 60 * 1000;

/** The dashboard page the browser returns to (packages/dashboard/src/App.tsx). */
export const INTEGRATIONS_PAGE = '/settings/integrations';

/** The AAD of a sealed PKCE verifier: it opens only for its own state row. */
function verifierContext(organizationId: string, stateHash: string): string {
  return `linear_oauth_states/${organizationId}/${stateHash}`;
}

function requireOAuthApp(deps: Pick<LinearDeps, 'linear'>): void {
  if (!deps.linear.clientId || !deps.linear.clientSecret)
    throw conflict(
      'Linear OAuth is not configured on this server (set LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET); ' +
        'connect with a personal API key instead',
    );
}

/**
 * The browser session a flow belongs to, as stored: a hash, so the table never holds a session id. An API key has
 * none: a flow it started could never come back to it, and a callback it presents is not the browser's.
 */
function sessionHashOf(sessionId: string | undefined, step: 'start' | 'complete'): string {
  if (!sessionId)
    throw new RequestError(
      403,
      'session_required',
      step === 'start'
        ? 'connecting Linear with OAuth needs a signed-in browser session (an API key cannot be sent back by Linear): ' +
            'sign in to the dashboard, or connect with a personal Linear API key (POST /api/linear/installations)'
        : 'the Linear OAuth callback completes only in the browser session that started the connection, not with an ' +
            'API key',
    );
  return createHash('sha256').update(`linear-oauth-session:${sessionId}`).digest('hex');
}

export async function startLinearAuthorization(
  deps: LinearDeps,
  scope: Scope,
  input: { actor: 'user' | 'app'; integrationId?: string | undefined },
  session: { sessionId?: string | undefined },
): Promise<{ authorizeUrl: string }> {
  requireOAuthApp(deps);
  if (!scope.userId) throw conflict('connecting Linear needs a signed-in person, not a system actor');
  const sessionHash = sessionHashOf(session.sessionId, 'start');
  if (input.integrationId) await findInstallation(deps.db, scope.organizationId, input.integrationId);
  const { state, stateHash } = newOAuthState();
  const pkce = createPkcePair();
  // Abandoned authorisations are swept here rather than by a job: this is the only place that adds them.
  await deps.db.delete(linearOauthStates).where(lt(linearOauthStates.expiresAt, sql`now()`));
  await deps.db.insert(linearOauthStates).values({
    stateHash,
    organizationId: scope.organizationId,
    userId: scope.userId,
    integrationConfigId: input.integrationId ?? null,
    sessionHash,
    codeVerifier: sealJson(deps.keys, { verifier: pkce.verifier }, verifierContext(scope.organizationId, stateHash)),
    actor: input.actor,
    expiresAt: new Date(Date.now() + STATE_TTL_MS),
  });
  return { authorizeUrl: buildAuthorizeUrl(deps.linear, { state, codeChallenge: pkce.challenge, actor: input.actor }) };
}

export type CallbackQuery = { code?: string; state?: string; error?: string };

/** Where the browser goes next: the integrations page, saying what happened. */
export type CallbackOutcome = { ok: true; integrationId: string } | { ok: false; reason: string };

export function callbackRedirect(outcome: CallbackOutcome): string {
  const query = outcome.ok
    ? new URLSearchParams({ linear: 'connected', integration: outcome.integrationId })
    : new URLSearchParams({ linear: 'error', reason: outcome.reason });
  return `${INTEGRATIONS_PAGE}?${query}`;
}

export async function completeLinearAuthorization(
  deps: LinearDeps,
  scope: Scope,
  query: CallbackQuery,
  session: { sessionId?: string | undefined },
): Promise<CallbackOutcome> {
  const sessionHash = sessionHashOf(session.sessionId, 'complete');
  if (!query.state) return { ok: false, reason: 'missing_state' };
  const stateHash = hashOAuthState(query.state);
  const mine = and(
    eq(linearOauthStates.stateHash, stateHash),
    eq(linearOauthStates.userId, scope.userId ?? ''),
    eq(linearOauthStates.organizationId, scope.organizationId),
  );
  // Single use: the row is deleted as it is read, and only in the browser session (of the admin and organisation)
  // that created it, so a state replayed, or carried to another account's or another session's browser, finds
  // nothing.
  const [pending] = await deps.db
    .delete(linearOauthStates)
    .where(and(mine, eq(linearOauthStates.sessionHash, sessionHash)))
    .returning();
  if (!pending) {
    // The same admin in another session (another browser, or signed in again): said plainly, and the state is left
    // for the session that started the flow.
    const [elsewhere] = await deps.db.select({ at: linearOauthStates.createdAt }).from(linearOauthStates).where(mine);
    // A browser navigation: it goes back to the integrations page with the reason, not to a JSON error.
    if (elsewhere) return { ok: false, reason: 'session_mismatch' };
    return { ok: false, reason: 'invalid_state' };
  }
  if (pending.expiresAt.getTime() <= Date.now()) return { ok: false, reason: 'expired_state' };
  // Linear's own refusal (the admin pressed Cancel): its error code, reduced to something safe to echo.
  if (query.error) return { ok: false, reason: query.error.replace(/[^a-z0-9_]/gi, '').slice(0, 40) || 'error' };
  if (!query.code) return { ok: false, reason: 'missing_code' };
  requireOAuthApp(deps);

  const { verifier } = openJson(deps.keys, pending.codeVerifier, verifierContext(scope.organizationId, stateHash)) as {
    verifier: string;
  };
  let tokens: LinearTokenSet;
  try {
    tokens = await exchangeAuthorizationCode(deps.linear, { code: query.code, codeVerifier: verifier });
  } catch (error) {
    deps.logger.warn(
      { err: error instanceof LinearOAuthError ? error.error : String(error), requestId: scope.requestId },
      'Linear OAuth code exchange failed',
    );
    return { ok: false, reason: 'token_exchange_failed' };
  }
  let identity: LinearIdentity;
  try {
    identity = await readIdentity(await clientForAccessToken(deps, tokens.accessToken));
  } catch (error) {
    deps.logger.warn({ err: error, requestId: scope.requestId }, 'Linear identity query failed after OAuth');
    return { ok: false, reason: 'linear_unavailable' };
  }
  const actor = pending.actor === 'app' ? 'app' : 'user';
  const credentials: LinearCredentials = {
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
    ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
    scopes: tokens.scopes,
  };

  if (!pending.integrationConfigId) {
    const created = await createIntegration(deps.db, deps.keys, scope, {
      integrationType: 'linear',
      name: `Linear (${identity.organization.name})`.slice(0, 200),
      config: { workspace: identity.organization, actor, viewerId: identity.viewer.id },
      credentials,
    });
    await recordConnected(deps, scope, created.id, 'linear.connected', identity, actor);
    return { ok: true, integrationId: created.id };
  }

  const integrationId = pending.integrationConfigId;
  let existing: Awaited<ReturnType<typeof findInstallation>>;
  try {
    existing = await findInstallation(deps.db, scope.organizationId, integrationId);
  } catch {
    return { ok: false, reason: 'installation_not_found' };
  }
  const config = configOf(existing);
  // The links hold issue ids of one workspace: approving another workspace would point them at nothing.
  if (config.workspace && config.workspace.id !== identity.organization.id)
    return { ok: false, reason: 'workspace_mismatch' };
  await updateCredentials(
    deps,
    scope.organizationId,
    integrationId,
    (current) => ({ ...credentials, ...(current?.webhookSecret ? { webhookSecret: current.webhookSecret } : {}) }),
    {
      config: {
        ...config,
        workspace: identity.organization,
        actor,
        viewerId: identity.viewer.id,
      },
      isActive: true,
      disabledReason: null,
      lastError: null,
      lastErrorAt: null,
    },
  );
  await recordConnected(deps, scope, integrationId, 'linear.reconnected', identity, actor);
  await resumeFailedLinks(deps, scope.organizationId, integrationId);
  return { ok: true, integrationId };
}

async function recordConnected(
  deps: LinearDeps,
  scope: Scope,
  integrationId: string,
  action: string,
  identity: LinearIdentity,
  actor: 'user' | 'app',
): Promise<void> {
  await recordAudit(deps.db, scope, {
    action,
    entityType: 'integration',
    entityId: integrationId,
    metadata: { method: 'oauth', workspace: identity.organization.urlKey, actor, credentials: 'changed' },
  });
}
