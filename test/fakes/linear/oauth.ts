// Linear's credentials: OAuth 2.0 (authorization code with optional PKCE S256, rotating refresh tokens, revocation)
// and personal API keys. Access tokens are sent as `Authorization: Bearer <token>`, API keys bare
// (`Authorization: lin_api_...`), exactly as Linear expects; anything else is an authentication error.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Credential } from './context.ts';
import type { LinearStore } from './store.ts';

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  name: string;
  /** Allowed callback URLs; an empty list accepts any http(s) redirect_uri (handy for tests on random ports). */
  redirectUris: string[];
}

/** One OAuth endpoint call, recorded so tests can assert e.g. "exactly one refresh". */
export interface OAuthCall {
  endpoint: 'authorize' | 'token' | 'revoke';
  grantType?: string;
  outcome: 'ok' | string;
  at: Date;
}

interface Grant {
  id: string;
  clientId: string;
  userId: string;
  scopes: string[];
  revoked: boolean;
}

interface AccessToken {
  grant: Grant | null;
  credential: Credential;
  expiresAt: number | null;
  revoked: boolean;
}

interface RefreshToken {
  grant: Grant;
  /** Set once exchanged: Linear rotates refresh tokens, so a second use is an invalid_grant. */
  used: boolean;
}

interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  grant: Grant;
  codeChallenge: string | null;
  expiresAt: number;
  used: boolean;
}

const KNOWN_SCOPES = new Set([
  'read',
  'write',
  'issues:create',
  'comments:create',
  'timeSchedule:write',
  'admin',
  'app:assignable',
  'app:mentionable',
]);

const token = (prefix: string) => `${prefix}${randomBytes(24).toString('hex')}`;

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export type AuthResult = { ok: true; credential: Credential } | { ok: false; reason: string };

export class CredentialRegistry {
  readonly calls: OAuthCall[] = [];
  readonly clients = new Map<string, OAuthClient>();
  /** Lifetime of issued access tokens; Linear's is 24 hours. */
  accessTokenTtlMs: number;
  /** The Linear user who clicks "Authorize" on the consent screen. */
  approvingUserId: string;
  private readonly store: LinearStore;
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly codes = new Map<string, AuthorizationCode>();
  private readonly appUsers = new Map<string, string>();
  private denyNextAuthorization = false;

  constructor(store: LinearStore, options: { accessTokenTtlMs: number; approvingUserId: string }) {
    this.store = store;
    this.accessTokenTtlMs = options.accessTokenTtlMs;
    this.approvingUserId = options.approvingUserId;
  }

  registerClient(input: Partial<OAuthClient> = {}): OAuthClient {
    const client: OAuthClient = {
      clientId: input.clientId ?? randomBytes(16).toString('hex'),
      clientSecret: input.clientSecret ?? randomBytes(16).toString('hex'),
      name: input.name ?? 'Switchboard',
      redirectUris: input.redirectUris ?? [],
    };
    this.clients.set(client.clientId, client);
    return client;
  }

  /** A personal API key for a user (`lin_api_...`), with that user's full access. */
  issueApiKey(userId: string): string {
    const key = token('lin_api_');
    this.accessTokens.set(key, {
      grant: null,
      credential: { kind: 'api-key', userId, scopes: [...KNOWN_SCOPES] },
      expiresAt: null,
      revoked: false,
    });
    return key;
  }

  /** An access token as the OAuth flow would issue it, for tests that don't care about the flow itself. */
  issueAccessToken(input: { userId: string; scopes?: string[]; clientId?: string }): string {
    const client = input.clientId ? this.clients.get(input.clientId) : [...this.clients.values()][0];
    if (!client) throw new Error('register an OAuth client first');
    const grant = this.newGrant(client.clientId, input.userId, input.scopes ?? ['read', 'write']);
    return this.issueTokens(grant).access_token;
  }

  /** Revokes a token (access, refresh or API key) and, like Linear, the whole authorization it belongs to. */
  revoke(tokenValue: string): boolean {
    const access = this.accessTokens.get(tokenValue);
    const grant = access?.grant ?? this.refreshTokens.get(tokenValue)?.grant ?? null;
    if (access) access.revoked = true;
    if (grant) {
      grant.revoked = true;
      for (const t of this.accessTokens.values()) if (t.grant === grant) t.revoked = true;
    }
    return Boolean(access || grant);
  }

  /** Makes an access token expire now, as if its 24 hours had passed. */
  expire(tokenValue: string): void {
    const access = this.accessTokens.get(tokenValue);
    if (!access) throw new Error('unknown access token');
    access.expiresAt = Date.now() - 1;
  }

  /** The next authorization is refused by the user ("Cancel" on the consent screen). */
  denyNext(): void {
    this.denyNextAuthorization = true;
  }

  authenticate(header: string | undefined): AuthResult {
    if (!header) return { ok: false, reason: 'no Authorization header' };
    const bearer = /^Bearer\s+(.+)$/i.exec(header);
    const value = bearer ? (bearer[1] ?? '') : header.trim();
    const record = this.accessTokens.get(value);
    if (!record) return { ok: false, reason: 'unknown token' };
    // Linear takes API keys bare and OAuth tokens as Bearer; the other way round is rejected.
    if (record.credential.kind === 'api-key' && bearer)
      return { ok: false, reason: 'API keys are sent without the Bearer prefix' };
    if (record.credential.kind === 'oauth' && !bearer)
      return { ok: false, reason: 'OAuth tokens need the Bearer prefix' };
    if (record.revoked) return { ok: false, reason: 'token revoked' };
    if (record.expiresAt !== null && record.expiresAt <= Date.now()) return { ok: false, reason: 'token expired' };
    return { ok: true, credential: record.credential };
  }

  // ---- HTTP endpoints ----

  handleAuthorize(res: ServerResponse, url: URL) {
    const q = url.searchParams;
    const client = this.clients.get(q.get('client_id') ?? '');
    const redirectUri = q.get('redirect_uri') ?? '';
    // Without a known client and a registered redirect URI there is nowhere safe to send an error: show it.
    if (!client) return this.page(res, 400, 'authorize', 'invalid_client', 'Unknown client_id');
    if (
      !/^https?:\/\//.test(redirectUri) ||
      (client.redirectUris.length > 0 && !client.redirectUris.includes(redirectUri))
    )
      return this.page(res, 400, 'authorize', 'invalid_request', 'redirect_uri is not registered for this application');
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    const fail = (error: string, description: string) => {
      back.searchParams.set('error', error);
      back.searchParams.set('error_description', description);
      this.calls.push({ endpoint: 'authorize', outcome: error, at: new Date() });
      res.writeHead(302, { location: back.toString() }).end();
    };
    if (q.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    const scopes = (q.get('scope') ?? 'read').split(/[\s,]+/).filter(Boolean);
    const unknown = scopes.filter((s) => !KNOWN_SCOPES.has(s));
    if (unknown.length > 0) return fail('invalid_scope', `Unknown scope: ${unknown.join(', ')}`);
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    if (challenge && method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
    const actor = q.get('actor') ?? 'user';
    if (actor !== 'user' && actor !== 'app') return fail('invalid_request', 'actor must be user or app');
    if (this.denyNextAuthorization) {
      this.denyNextAuthorization = false;
      return fail('access_denied', 'The user denied the authorization');
    }
    const userId = actor === 'app' ? this.appUser(client) : this.approvingUserId;
    const grantScopes = [...new Set(['read', ...scopes])];
    const code = token('');
    this.codes.set(code, {
      clientId: client.clientId,
      redirectUri,
      grant: this.newGrant(client.clientId, userId, grantScopes),
      codeChallenge: challenge,
      expiresAt: Date.now() + 10 * 60_000,
      used: false,
    });
    back.searchParams.set('code', code);
    this.calls.push({ endpoint: 'authorize', outcome: 'ok', at: new Date() });
    res.writeHead(302, { location: back.toString() }).end();
  }

  handleToken(req: IncomingMessage, res: ServerResponse, body: string) {
    const respond = (status: number, payload: object, grantType?: string) => {
      const outcome = status === 200 ? 'ok' : String((payload as { error?: string }).error);
      this.calls.push({ endpoint: 'token', grantType, outcome, at: new Date() });
      res
        .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        .end(JSON.stringify(payload));
    };
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded'))
      return respond(400, {
        error: 'invalid_request',
        error_description: 'Body must be application/x-www-form-urlencoded',
      });
    const form = new URLSearchParams(body);
    const grantType = form.get('grant_type') ?? '';
    const basic = /^Basic\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    const [basicId, basicSecret] = basic
      ? Buffer.from(basic[1] ?? '', 'base64')
          .toString()
          .split(':')
      : [];
    const client = this.clients.get(form.get('client_id') ?? basicId ?? '');
    const secret = form.get('client_secret') ?? basicSecret ?? null;
    if (!client) return respond(401, { error: 'invalid_client', error_description: 'Unknown client' }, grantType);
    if (secret !== null && secret !== client.clientSecret)
      return respond(401, { error: 'invalid_client', error_description: 'Wrong client_secret' }, grantType);

    if (grantType === 'authorization_code') {
      const code = this.codes.get(form.get('code') ?? '');
      if (!code || code.clientId !== client.clientId || code.used || code.expiresAt < Date.now())
        return respond(
          400,
          { error: 'invalid_grant', error_description: 'Invalid or expired authorization code' },
          grantType,
        );
      if (form.get('redirect_uri') !== code.redirectUri)
        return respond(400, { error: 'invalid_grant', error_description: 'redirect_uri does not match' }, grantType);
      if (code.codeChallenge) {
        const verifier = form.get('code_verifier');
        if (!verifier || pkceChallenge(verifier) !== code.codeChallenge)
          return respond(400, { error: 'invalid_grant', error_description: 'code_verifier does not match' }, grantType);
      } else if (secret === null) {
        return respond(
          401,
          { error: 'invalid_client', error_description: 'client_secret is required without PKCE' },
          grantType,
        );
      }
      code.used = true;
      return respond(200, this.issueTokens(code.grant), grantType);
    }
    if (grantType === 'refresh_token') {
      const refresh = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!refresh || refresh.grant.clientId !== client.clientId)
        return respond(400, { error: 'invalid_grant', error_description: 'Unknown refresh token' }, grantType);
      if (refresh.used)
        return respond(400, { error: 'invalid_grant', error_description: 'Refresh token already used' }, grantType);
      if (refresh.grant.revoked)
        return respond(400, { error: 'invalid_grant', error_description: 'Authorization revoked' }, grantType);
      refresh.used = true;
      return respond(200, this.issueTokens(refresh.grant), grantType);
    }
    return respond(400, { error: 'unsupported_grant_type', error_description: `grant_type ${grantType}` }, grantType);
  }

  handleRevoke(req: IncomingMessage, res: ServerResponse, body: string) {
    const form = new URLSearchParams(body);
    const bearer = /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''));
    const value = form.get('token') ?? bearer?.[1] ?? '';
    const known = value !== '' && this.revoke(value);
    this.calls.push({ endpoint: 'revoke', outcome: known ? 'ok' : 'invalid_token', at: new Date() });
    if (!known)
      return void res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: 'invalid_token', error_description: 'Unknown token' }));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true }));
  }

  private page(
    res: ServerResponse,
    status: number,
    endpoint: OAuthCall['endpoint'],
    error: string,
    description: string,
  ) {
    this.calls.push({ endpoint, outcome: error, at: new Date() });
    res.writeHead(status, { 'content-type': 'text/plain' }).end(`${error}: ${description}`);
  }

  private newGrant(clientId: string, userId: string, scopes: string[]): Grant {
    return { id: token(''), clientId, userId, scopes, revoked: false };
  }

  private issueTokens(grant: Grant) {
    const access = token('lin_oauth_');
    const refresh = token('lin_refresh_');
    const expiresInSeconds = Math.floor(this.accessTokenTtlMs / 1000);
    this.accessTokens.set(access, {
      grant,
      credential: { kind: 'oauth', userId: grant.userId, scopes: grant.scopes, clientId: grant.clientId },
      expiresAt: Date.now() + this.accessTokenTtlMs,
      revoked: false,
    });
    this.refreshTokens.set(refresh, { grant, used: false });
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: expiresInSeconds,
      scope: grant.scopes,
      refresh_token: refresh,
    };
  }

  /** With `actor=app` the application itself is the actor: Linear gives it a user of its own (`app: true`). */
  private appUser(client: OAuthClient): string {
    const existing = this.appUsers.get(client.clientId);
    if (existing) return existing;
    const user = this.store.addUser({
      name: client.name,
      email: `${client.clientId}@oauthapp.linear.app`,
      app: true,
    });
    this.appUsers.set(client.clientId, user.id);
    return user.id;
  }
}
