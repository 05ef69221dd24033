// Linear's OAuth 2.0 endpoints as plain HTTP calls: the authorize URL (with state and PKCE), the code exchange, the
// refresh (Linear rotates refresh tokens: the old one stops working) and revocation. Used by the API (connect,
// disconnect) and by the credential loader (refresh); the endpoints come from the Linear module's settings
// (packages/integrations/linear/settings.ts, LINEAR_*) so tests use a local server.
import { createHash, randomBytes } from 'node:crypto';

/** Where Linear is and who we are to it: the Linear module's settings, but for the worker's rate limit. */
export type LinearEndpoints = {
  /** Linear's endpoints; tests and self-hosted proxies point these at another server. */
  apiUrl: string;
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  /** The OAuth application (Linear → Settings → API → OAuth applications); without it only API keys connect. */
  clientId: string | null;
  clientSecret: string | null;
  /** Must be registered on the OAuth application exactly as written here. */
  redirectUri: string;
  /** Scopes asked for: `admin` lets us register the webhook ourselves; without it the admin pastes it. */
  scopes: string[];
  /** Refresh an access token this long before it expires. */
  refreshMarginMs: number;
  /** Per request to Linear. */
  timeoutMs: number;
};

export type LinearTokenSet = {
  accessToken: string;
  /** Absent when Linear issued a non-expiring token (older applications). */
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  scopes: string[];
};

/** An OAuth endpoint refused the request (`error` is the OAuth error code: invalid_grant, invalid_client, …). */
export class LinearOAuthError extends Error {
  readonly error: string;
  readonly status: number;
  constructor(error: string, description: string | undefined, status: number) {
    super(`Linear OAuth: ${error}${description ? ` (${description})` : ''}`);
    this.name = 'LinearOAuthError';
    this.error = error;
    this.status = status;
  }
  /** The grant is gone for good (revoked, already rotated, client removed): only reconnecting helps. */
  get permanent(): boolean {
    return ['invalid_grant', 'invalid_client', 'unauthorized_client', 'access_denied'].includes(this.error);
  }
}

export function createPkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export function newOAuthState(): { state: string; stateHash: string } {
  const state = randomBytes(32).toString('base64url');
  return { state, stateHash: hashOAuthState(state) };
}

export function hashOAuthState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

export function buildAuthorizeUrl(
  endpoints: LinearEndpoints,
  params: { state: string; codeChallenge: string; actor: 'user' | 'app' },
): string {
  if (!endpoints.clientId) throw new Error('LINEAR_CLIENT_ID is not configured');
  const url = new URL(endpoints.authorizeUrl);
  url.searchParams.set('client_id', endpoints.clientId);
  url.searchParams.set('redirect_uri', endpoints.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', endpoints.scopes.join(','));
  url.searchParams.set('state', params.state);
  url.searchParams.set('code_challenge', params.codeChallenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('prompt', 'consent');
  if (params.actor === 'app') url.searchParams.set('actor', 'app');
  return url.toString();
}

export function exchangeAuthorizationCode(
  endpoints: LinearEndpoints,
  params: { code: string; codeVerifier: string },
): Promise<LinearTokenSet> {
  return tokenRequest(endpoints, {
    grant_type: 'authorization_code',
    code: params.code,
    code_verifier: params.codeVerifier,
    redirect_uri: endpoints.redirectUri,
  });
}

export function refreshAccessToken(endpoints: LinearEndpoints, refreshToken: string): Promise<LinearTokenSet> {
  return tokenRequest(endpoints, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/**
 * Revokes the whole authorisation (access and refresh token). A token Linear no longer knows counts as revoked:
 * Linear documents 400 as "unable to revoke token (e.g. already revoked)" and 401 as "unable to authenticate with
 * the token", where RFC 7009 would answer 200.
 */
export async function revokeToken(endpoints: LinearEndpoints, token: string): Promise<void> {
  const res = await fetch(endpoints.revokeUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
    signal: AbortSignal.timeout(endpoints.timeoutMs),
  });
  if (res.ok || res.status === 400 || res.status === 401) return;
  throw new Error(`Linear OAuth revoke answered HTTP ${res.status}`);
}

async function tokenRequest(endpoints: LinearEndpoints, fields: Record<string, string>): Promise<LinearTokenSet> {
  if (!endpoints.clientId || !endpoints.clientSecret)
    throw new Error('LINEAR_CLIENT_ID and LINEAR_CLIENT_SECRET are not configured');
  const res = await fetch(endpoints.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ ...fields, client_id: endpoints.clientId, client_secret: endpoints.clientSecret }),
    signal: AbortSignal.timeout(endpoints.timeoutMs),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // A gateway's HTML page: report the status below.
  }
  if (!res.ok || typeof body.access_token !== 'string') {
    const error = typeof body.error === 'string' ? body.error : `http_${res.status}`;
    throw new LinearOAuthError(
      error,
      typeof body.error_description === 'string' ? body.error_description : undefined,
      res.status,
    );
  }
  const scope = body.scope;
  return {
    accessToken: body.access_token,
    ...(typeof body.refresh_token === 'string' ? { refreshToken: body.refresh_token } : {}),
    ...(typeof body.expires_in === 'number' ? { expiresAt: Date.now() + body.expires_in * 1000 } : {}),
    // Linear has answered with an array and with a comma/space separated string at different times.
    scopes: Array.isArray(scope)
      ? scope.map(String)
      : typeof scope === 'string'
        ? scope.split(/[ ,]+/).filter(Boolean)
        : [],
  };
}
