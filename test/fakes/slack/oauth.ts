// Slack's OAuth v2 ("Add to Slack"): the authorize page, single-use codes, and the installations and tokens that
// oauth.v2.access hands out.
import { randomBytes } from 'node:crypto';
import type { Installation, SlackStore, TokenRecord } from './store.ts';

/** Bot scopes an app may request (`scope`). Anything else gets Slack's "Invalid permissions requested" page. */
export const BOT_SCOPES = new Set([
  'app_mentions:read',
  'assistant:write',
  'bookmarks:read',
  'bookmarks:write',
  'calls:read',
  'calls:write',
  'canvases:read',
  'canvases:write',
  'channels:history',
  'channels:join',
  'channels:manage',
  'channels:read',
  'channels:write.invites',
  'channels:write.topic',
  'chat:write',
  'chat:write.customize',
  'chat:write.public',
  'commands',
  'conversations.connect:manage',
  'conversations.connect:read',
  'conversations.connect:write',
  'dnd:read',
  'emoji:read',
  'files:read',
  'files:write',
  'groups:history',
  'groups:read',
  'groups:write',
  'groups:write.invites',
  'groups:write.topic',
  'im:history',
  'im:read',
  'im:write',
  'im:write.topic',
  'incoming-webhook',
  'links.embed:write',
  'links:read',
  'links:write',
  'metadata.message:read',
  'mpim:history',
  'mpim:read',
  'mpim:write',
  'mpim:write.topic',
  'pins:read',
  'pins:write',
  'reactions:read',
  'reactions:write',
  'reminders:read',
  'reminders:write',
  'remote_files:read',
  'remote_files:share',
  'remote_files:write',
  'team.billing:read',
  'team.preferences:read',
  'team:read',
  'tokens.basic',
  'triggers:read',
  'triggers:write',
  'usergroups:read',
  'usergroups:write',
  'users.profile:read',
  'users:read',
  'users:read.email',
  'users:write',
  'workflow.steps:execute',
]);

/** User-token scopes (`user_scope`): the bot scopes that also exist for users, plus the user-only ones. */
export const USER_SCOPES = new Set([
  ...[...BOT_SCOPES].filter(
    (s) => !['app_mentions:read', 'assistant:write', 'chat:write.customize', 'chat:write.public'].includes(s),
  ),
  'admin',
  'channels:write',
  'identify',
  'search:read',
  'stars:read',
  'stars:write',
  'users.profile:write',
]);

interface PendingCode {
  code: string;
  teamId: string;
  userId: string;
  botScopes: string[];
  userScopes: string[];
  redirectUri: string | null;
  createdAt: number;
  used: boolean;
}

export interface OAuthOptions {
  /** Registered Redirect URLs; a redirect_uri must equal one or lie beneath it. Empty: any http(s) URL. */
  redirectUris: string[];
  /** Slack's codes expire after 10 minutes. */
  codeTtlMs: number;
}

export class OAuthError extends Error {
  readonly error: string;

  constructor(error: string, message: string) {
    super(message);
    this.error = error;
  }
}

export interface OAuthExchangeResult {
  ok: true;
  app_id: string;
  authed_user: { id: string; scope?: string; access_token?: string; token_type?: 'user' };
  scope: string;
  token_type: 'bot';
  access_token: string;
  bot_user_id: string;
  team: { id: string; name: string };
  enterprise: null;
  is_enterprise_install: false;
}

export class OAuthServer {
  private readonly codes = new Map<string, PendingCode>();
  /** Every authorize approval/denial and code exchange, in order. */
  readonly log: Array<{ step: 'authorize' | 'access'; outcome: string; teamId?: string; at: Date }> = [];

  private readonly store: SlackStore;
  readonly options: OAuthOptions;

  constructor(store: SlackStore, options: OAuthOptions) {
    this.store = store;
    this.options = options;
  }

  private redirectAllowed(uri: string): boolean {
    let parsed: URL;
    try {
      parsed = new URL(uri);
    } catch {
      return false;
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return false;
    if (this.options.redirectUris.length === 0) return true;
    return this.options.redirectUris.some((allowed) => {
      const base = new URL(allowed);
      return (
        parsed.origin === base.origin &&
        (parsed.pathname === base.pathname || parsed.pathname.startsWith(`${base.pathname.replace(/\/$/, '')}/`))
      );
    });
  }

  /**
   * Validates an authorize URL the way Slack's install page does and returns the query it carried, or throws an
   * OAuthError naming what Slack's error page would show.
   */
  parseAuthorize(authorizeUrl: string) {
    const url = new URL(authorizeUrl);
    if (!url.pathname.endsWith('/oauth/v2/authorize'))
      throw new OAuthError('invalid_authorize_url', `not an /oauth/v2/authorize URL: ${url.pathname}`);
    const q = url.searchParams;
    if (q.get('client_id') !== this.store.app.clientId)
      throw new OAuthError('invalid_client_id', `Invalid client_id parameter: ${q.get('client_id')}`);
    const botScopes = splitScopes(q.get('scope'));
    const userScopes = splitScopes(q.get('user_scope'));
    if (botScopes.length === 0 && userScopes.length === 0)
      throw new OAuthError('invalid_scope', 'Invalid permissions requested: no scope or user_scope');
    const badBot = botScopes.filter((s) => !BOT_SCOPES.has(s));
    const badUser = userScopes.filter((s) => !USER_SCOPES.has(s));
    if (badBot.length > 0 || badUser.length > 0)
      throw new OAuthError('invalid_scope', `Invalid permissions requested: ${[...badBot, ...badUser].join(', ')}`);
    const redirectParam = q.get('redirect_uri');
    const redirectUri = redirectParam ?? this.options.redirectUris[0] ?? null;
    if (redirectUri === null)
      throw new OAuthError('bad_redirect_uri', 'No redirect_uri given and the app has no Redirect URL configured');
    if (!this.redirectAllowed(redirectUri))
      throw new OAuthError('bad_redirect_uri', `redirect_uri did not match any configured URIs: ${redirectUri}`);
    return {
      botScopes,
      userScopes,
      redirectUri,
      redirectParam,
      state: q.get('state'),
      team: q.get('team'),
    };
  }

  /** The user approves the install: returns the redirect to the app (`redirect_uri?code=...&state=...`). */
  approve(authorizeUrl: string, input: { teamId?: string; userId?: string; deny?: boolean } = {}): string {
    const request = this.parseAuthorize(authorizeUrl);
    const teamId = input.teamId ?? request.team ?? 'T0ACME001';
    const team = this.store.teams.get(teamId);
    if (!team) throw new OAuthError('team_not_found', `no team ${teamId} in the Slack fake`);
    const userId =
      input.userId ?? [...this.store.users.values()].find((u) => u.teamId === teamId && u.isAdmin && !u.isBot)?.id;
    const user = userId ? this.store.users.get(userId) : undefined;
    if (!user || user.teamId !== teamId || user.isBot)
      throw new OAuthError('user_not_found', `no user ${userId} in team ${teamId}`);
    const redirect = new URL(request.redirectUri);
    if (input.deny) {
      redirect.searchParams.set('error', 'access_denied');
      if (request.state !== null) redirect.searchParams.set('state', request.state);
      this.log.push({ step: 'authorize', outcome: 'access_denied', teamId, at: new Date() });
      return redirect.toString();
    }
    const code = `${Math.floor(Date.now() / 1000)}.${randomDigits(12)}.${randomBytes(32).toString('hex')}`;
    this.codes.set(code, {
      code,
      teamId,
      userId: user.id,
      botScopes: request.botScopes,
      userScopes: request.userScopes,
      redirectUri: request.redirectParam,
      createdAt: Date.now(),
      used: false,
    });
    redirect.searchParams.set('code', code);
    if (request.state !== null) redirect.searchParams.set('state', request.state);
    this.log.push({ step: 'authorize', outcome: 'approved', teamId, at: new Date() });
    return redirect.toString();
  }

  /** oauth.v2.access for a code grant. Throws OAuthError with Slack's error code. */
  exchange(input: {
    clientId: string | undefined;
    clientSecret: string | undefined;
    code: string | undefined;
    redirectUri: string | undefined;
    grantType: string | undefined;
  }): OAuthExchangeResult {
    const fail = (error: string, message: string): never => {
      this.log.push({ step: 'access', outcome: error, at: new Date() });
      throw new OAuthError(error, message);
    };
    if (input.clientId !== this.store.app.clientId) fail('invalid_client_id', 'client_id is not this app');
    if (input.clientSecret !== this.store.app.clientSecret) fail('bad_client_secret', 'client_secret does not match');
    if (input.grantType === 'refresh_token')
      fail('invalid_refresh_token', 'token rotation is not enabled for this app (the fake does not model it)');
    if (input.grantType !== undefined && input.grantType !== 'authorization_code')
      fail('invalid_grant_type', `unknown grant_type ${input.grantType}`);
    const pending = input.code ? this.codes.get(input.code) : undefined;
    if (!pending) return fail('invalid_code', 'unknown code');
    if (pending.used) fail('invalid_code', 'code already used');
    pending.used = true;
    if (Date.now() - pending.createdAt > this.options.codeTtlMs) fail('invalid_code', 'code expired');
    if ((pending.redirectUri ?? undefined) !== input.redirectUri)
      fail('bad_redirect_uri', 'redirect_uri does not match the one sent to /oauth/v2/authorize');
    const installation = this.install(pending.teamId, pending.userId, pending.botScopes, pending.userScopes);
    this.log.push({ step: 'access', outcome: 'ok', teamId: pending.teamId, at: new Date() });
    const team = this.store.team(pending.teamId);
    const userToken = installation.userTokens.get(pending.userId);
    return {
      ok: true,
      app_id: this.store.app.appId,
      authed_user: userToken
        ? {
            id: pending.userId,
            scope: userToken.scopes.join(','),
            access_token: userToken.token,
            token_type: 'user',
          }
        : { id: pending.userId },
      scope: installation.botToken.scopes.join(','),
      token_type: 'bot',
      access_token: installation.botToken.token,
      bot_user_id: installation.botToken.userId,
      team: { id: team.id, name: team.name },
      enterprise: null,
      is_enterprise_install: false,
    };
  }

  /**
   * Installs (or re-installs) the app in a team. Like Slack, a re-install keeps the bot token unless it was revoked,
   * and bot scopes accumulate.
   */
  install(teamId: string, userId: string, botScopes: string[], userScopes: string[] = []): Installation {
    const { botUserId } = this.store.bot(teamId);
    let installation = this.store.installations.get(teamId);
    if (!installation || installation.botToken.revoked) {
      const botToken: TokenRecord = {
        token: `xoxb-${randomDigits(12)}-${randomDigits(13)}-${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`,
        kind: 'bot',
        teamId,
        userId: botUserId,
        scopes: [...new Set(botScopes)],
        revoked: false,
      };
      this.store.tokens.set(botToken.token, botToken);
      installation = {
        teamId,
        botToken,
        userTokens: installation?.userTokens ?? new Map(),
        installedBy: userId,
        installedAt: Date.now(),
      };
      this.store.installations.set(teamId, installation);
    } else {
      installation.botToken.scopes = [...new Set([...installation.botToken.scopes, ...botScopes])];
    }
    if (userScopes.length > 0) {
      const existing = installation.userTokens.get(userId);
      if (existing && !existing.revoked) existing.scopes = [...new Set([...existing.scopes, ...userScopes])];
      else {
        const userToken: TokenRecord = {
          token: `xoxp-${randomDigits(12)}-${randomDigits(12)}-${randomDigits(13)}-${randomBytes(16).toString('hex')}`,
          kind: 'user',
          teamId,
          userId,
          scopes: [...new Set(userScopes)],
          revoked: false,
        };
        this.store.tokens.set(userToken.token, userToken);
        installation.userTokens.set(userId, userToken);
      }
    }
    return installation;
  }
}

function splitScopes(value: string | null): string[] {
  return (value ?? '')
    .split(/[,\s]+/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

export function randomDigits(count: number): string {
  let out = String(1 + ((randomBytes(1)[0] ?? 0) % 9));
  while (out.length < count) out += String((randomBytes(1)[0] ?? 0) % 10);
  return out;
}
