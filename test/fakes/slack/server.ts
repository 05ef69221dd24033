// A local Slack: the Web API checked against Slack's own description, OAuth v2, a driver that sends signed events,
// commands and interactions to the app, and switches for the failures an integration must survive.
// See README.md in this folder.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { SlackDriver } from './driver.ts';
import { OAuthError, OAuthServer, randomDigits } from './oauth.ts';
import { ACME, GLOBEX, SlackStore, seedAcme, type TeamSeed } from './store.ts';
import { type FailureSpec, TriggerRegistry, WebApi } from './webapi.ts';

export interface SlackFakeOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  host?: string;
  signingSecret?: string;
  clientId?: string;
  clientSecret?: string;
  /** chat.postMessage calls allowed per channel per second (Slack: about 1); 0 (default) = no limit. */
  perChannelPostsPerSecond?: number;
  /** Public channels the bot is already in (default: #support only). */
  botMemberOf?: string[];
  /**
   * Install the app in Acme at start with these bot scopes (default DEFAULT_BOT_SCOPES), so `slack.botToken` works
   * without the OAuth dance. `false`: not installed until a test goes through OAuth or calls `install()`.
   */
  preinstall?: string[] | false;
  /** The app's registered Redirect URLs; empty (default): any http(s) redirect_uri is accepted. */
  redirectUris?: string[];
  /** How long OAuth codes stay valid (Slack: 10 minutes). */
  oauthCodeTtlMs?: number;
  /** Send the Events API events Slack sends about the app's own changes (its messages, edits, deletes). Default true. */
  echoOwnMessages?: boolean;
}

/** What a typical support-desk bot asks for; the pre-installed Acme bot token has these. */
export const DEFAULT_BOT_SCOPES = [
  'app_mentions:read',
  'channels:history',
  'channels:join',
  'channels:read',
  'chat:write',
  'commands',
  'groups:history',
  'groups:read',
  'im:history',
  'im:read',
  'im:write',
  'mpim:read',
  'team:read',
  'users:read',
  'users:read.email',
];

export async function createSlackFake(options: SlackFakeOptions = {}) {
  const store = new SlackStore({
    appId: 'A0SWITCHB1',
    name: 'Switchboard',
    clientId: options.clientId ?? `${randomDigits(12)}.${randomDigits(13)}`,
    clientSecret: options.clientSecret ?? randomBytes(16).toString('hex'),
    signingSecret: options.signingSecret ?? randomBytes(16).toString('hex'),
    verificationToken: randomBytes(12).toString('base64url'),
  });
  seedAcme(store, options.botMemberOf ?? ['C0SUPPORT1']);
  const oauth = new OAuthServer(store, {
    redirectUris: options.redirectUris ?? [],
    codeTtlMs: options.oauthCodeTtlMs ?? 10 * 60_000,
  });
  const triggers = new TriggerRegistry();
  let baseUrl = '';
  const echo = options.echoOwnMessages ?? true;
  // The driver is created after the Web API, which needs it only to send events.
  let driver: SlackDriver | undefined;
  const webApi = new WebApi({
    store,
    oauth,
    triggers,
    perChannelPostsPerSecond: options.perChannelPostsPerSecond ?? 0,
    emitEvent: (teamId, event) => {
      if (event.type === 'message' && !echo) return;
      driver?.emitBackground(teamId, event, event.type === 'tokens_revoked');
    },
  });
  driver = new SlackDriver({
    store,
    triggers,
    rejected: webApi.rejected,
    baseUrl: () => baseUrl,
    viewPayload: (view) => webApi.viewPayload(view),
  });
  const slackDriver = driver;

  const preinstallScopes = options.preinstall === undefined ? DEFAULT_BOT_SCOPES : options.preinstall;
  if (preinstallScopes) oauth.install(ACME.id, 'U0ADA00001', preinstallScopes);

  // Outage switches: 'paused' holds requests until resume(); 'refused' closes the listener; '503' answers 503.
  let mode: 'up' | 'paused' | '503' | 'refused' = 'up';
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function page(res: ServerResponse, status: number, text: string) {
    res
      .writeHead(status, { 'content-type': 'text/html; charset=utf-8' })
      .end(`<html><body><p>${text}</p></body></html>`);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake.slack');
    // A held request was received in full, as by Slack: it is carried out on resume even if the caller is gone by
    // then (a client killed while waiting for the answer), which is what makes "posted, but never recorded" testable.
    const body = await readBody(req);
    if (mode === 'paused') await new Promise<void>((resolve) => held.push(resolve));
    if (mode === '503') {
      res.writeHead(503, { 'content-type': 'text/html' }).end('<html><body>503 Service Unavailable</body></html>');
      return;
    }
    if (req.method === 'GET' && url.pathname === '/oauth/v2/authorize') {
      try {
        const redirect = oauth.approve(url.toString());
        res.writeHead(302, { location: redirect }).end();
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        page(res, 400, `Something went wrong when authorizing this app. ${error.error}: ${error.message}`);
      }
      return;
    }
    const api = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname);
    if (api?.[1] && (req.method === 'POST' || req.method === 'GET')) return webApi.handle(req, res, api[1], url, body);
    const response = /^\/response\/(.+)$/.exec(url.pathname);
    if (response?.[1] && req.method === 'POST') return slackDriver.handleResponseUrl(req, res, response[1], body);
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ ok: false, error: `The Slack fake has no ${req.method} ${url.pathname}` }));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            ok: false,
            error: 'fatal_error',
            detail: `Slack fake failed: ${(error as Error).message}`,
          }),
        );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const host = options.host ?? '127.0.0.1';
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(options.port ?? 0);
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host}:${port}`;

  function releaseHeld() {
    for (const release of held.splice(0)) release();
  }

  function revokeTeamTokens(teamId: string) {
    const revoked = { bot: [] as string[], oauth: [] as string[] };
    for (const token of store.tokens.values()) {
      if (token.teamId !== teamId || token.revoked) continue;
      token.revoked = true;
      (token.kind === 'bot' ? revoked.bot : revoked.oauth).push(token.userId);
    }
    return revoked;
  }

  return {
    /** Base URL of the fake, e.g. http://127.0.0.1:PORT */
    url: baseUrl,
    /** WebClient's `slackApiUrl` (ends with /api/). */
    apiUrl: `${baseUrl}/api/`,
    oauth: {
      /** Give this to InstallProvider as `authorizationUrl`. */
      authorizeUrl: `${baseUrl}/oauth/v2/authorize`,
      /** Every authorize and oauth.v2.access outcome, in order. */
      log: oauth.log,
    },
    signingSecret: store.app.signingSecret,
    clientId: store.app.clientId,
    clientSecret: store.app.clientSecret,
    appId: store.app.appId,
    /** The deprecated verification token Slack puts in payloads as `token`. */
    verificationToken: store.app.verificationToken,
    /** The pre-installed Acme bot token ('' with `preinstall: false`). */
    get botToken(): string {
      const installation = store.installations.get(ACME.id);
      return installation && !installation.botToken.revoked ? installation.botToken.token : '';
    },
    /** The workspaces' data: teams, users, channels, messages, ephemerals, views, tokens, installations. */
    store,

    // ---- workspaces ----------------------------------------------------------------------------------------
    /** Adds a workspace (default: Globex, T0GLOBEX01, with hank@ and homer@globex.test). Not installed. */
    addTeam: (seed: TeamSeed = GLOBEX) => store.addTeam(seed),
    /** Installs the app in a team without OAuth; returns the installation (bot token, scopes). */
    install: (
      teamId: string = ACME.id,
      input: { userId?: string; botScopes?: string[]; userScopes?: string[] } = {},
    ) => {
      const userId =
        input.userId ?? [...store.users.values()].find((u) => u.teamId === teamId && u.isAdmin && !u.isBot)?.id;
      if (!userId) throw new Error(`no admin in ${teamId}`);
      return oauth.install(teamId, userId, input.botScopes ?? DEFAULT_BOT_SCOPES, input.userScopes ?? []);
    },
    /** The active bot token of a team (throws when the app is not installed there). */
    botTokenFor(teamId: string): string {
      const installation = store.installations.get(teamId);
      if (!installation || installation.botToken.revoked) throw new Error(`the app is not installed in ${teamId}`);
      return installation.botToken.token;
    },
    /** Messages of a channel, oldest first, thread replies included. */
    messages: (channelId: string) => store.messagesIn(channelId),
    /** Top-level messages of a channel, newest first (what conversations.history shows). */
    history: (channelId: string) => store.history(channelId),
    /** A thread: the parent, then its replies. */
    thread: (channelId: string, threadTs: string) => store.thread(channelId, threadTs),
    ephemerals: store.ephemerals,
    /** Views opened/published through views.* (and submitted), by view id. */
    views: store.views,

    // ---- OAuth ---------------------------------------------------------------------------------------------
    /**
     * The user approves the app on Slack's install page for `authorizeUrl` (the URL the app sent them to):
     * validates client_id, scopes and redirect_uri, then returns the redirect `redirect_uri?code=...&state=...`.
     * `deny: true` returns `?error=access_denied&state=...`. Default: Ada approving for Acme.
     */
    approveInstall: (authorizeUrl: string, input: { teamId?: string; userId?: string; deny?: boolean } = {}) =>
      oauth.approve(authorizeUrl, input),

    // ---- the driver (Slack → app) ---------------------------------------------------------------------------
    setRequestUrl: slackDriver.setRequestUrl.bind(slackDriver),
    sendEvent: slackDriver.sendEvent.bind(slackDriver),
    urlVerification: slackDriver.urlVerification.bind(slackDriver),
    postAsUser: slackDriver.postAsUser.bind(slackDriver),
    editAsUser: slackDriver.editAsUser.bind(slackDriver),
    deleteAsUser: slackDriver.deleteAsUser.bind(slackDriver),
    slashCommand: slackDriver.slashCommand.bind(slackDriver),
    blockAction: slackDriver.blockAction.bind(slackDriver),
    viewBlockAction: slackDriver.viewBlockAction.bind(slackDriver),
    messageShortcut: slackDriver.messageShortcut.bind(slackDriver),
    globalShortcut: slackDriver.globalShortcut.bind(slackDriver),
    viewSubmission: slackDriver.viewSubmission.bind(slackDriver),
    /** Slack's v0 signature of a body at a timestamp (seconds), with the signing secret. */
    sign: (timestamp: number, body: string) => slackDriver.sign(timestamp, body),
    /** Everything the driver sent to the app, with the app's answers. */
    deliveries: slackDriver.deliveries,
    /** Background events (echoes, uninstall) the app did not answer with 2xx. */
    backgroundErrors: slackDriver.backgroundErrors,
    /** Waits for background events in flight. */
    settle: () => slackDriver.settle(),
    /** What the app posted to a response_url (its id or the full URL). */
    responses: (idOrUrl: string) => slackDriver.responses(idOrUrl),
    lastResponse: () => slackDriver.lastResponse(),
    /** How long trigger ids stay valid (Slack: 3000 ms). */
    setTriggerTtl: (ms: number) => {
      triggers.ttlMs = ms;
    },

    // ---- failures ------------------------------------------------------------------------------------------
    /**
     * The next call(s) to `method` ('*': any method) fail with `error`. `status` defaults to 200 (Slack's
     * `{ok:false}`), or 429 with Retry-After for `ratelimited`.
     */
    failNext: (method: string, spec: FailureSpec) => webApi.failNext(method, spec),
    clearFailures: () => webApi.clearFailures(),
    /** Revokes every token of a team: calls then answer token_revoked. */
    revokeTokens: (teamId: string) => {
      revokeTeamTokens(teamId);
    },
    /** The workspace is deleted/deactivated: its tokens answer account_inactive. */
    deactivateTeam: (teamId: string) => {
      store.team(teamId).active = false;
    },
    /**
     * The app is uninstalled from a team: tokens are revoked, and `tokens_revoked` then `app_uninstalled` are sent
     * to the Request URL, as Slack does. Resolves when the app has answered both.
     */
    async uninstall(teamId: string) {
      const revoked = revokeTeamTokens(teamId);
      store.installations.delete(teamId);
      if (!slackDriver.requestUrls) return [];
      const tokensRevoked = await slackDriver.sendEvent(
        {
          type: 'tokens_revoked',
          tokens: { ...(revoked.oauth.length ? { oauth: revoked.oauth } : {}), bot: revoked.bot },
        },
        { teamId },
      );
      const uninstalled = await slackDriver.sendEvent({ type: 'app_uninstalled' }, { teamId });
      return [tokensRevoked, uninstalled];
    },
    /** Requests are held (no answer) until resume(). */
    pause: () => {
      mode = 'paused';
    },
    resume: () => {
      mode = 'up';
      releaseHeld();
    },
    /** Slack is down: 'refused' closes the port (connection refused), '503' answers every request with 503. */
    async down(how: 'refused' | '503' = 'refused') {
      if (how === '503') {
        mode = '503';
        releaseHeld();
        return;
      }
      mode = 'refused';
      releaseHeld();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    /** Back up after down() (the same port). */
    async up() {
      if (mode === 'refused') await listen(port);
      mode = 'up';
    },

    // ---- call log ------------------------------------------------------------------------------------------
    /** Every Web API call: method, args, token's team, HTTP status, ok, error, time, response. */
    calls: webApi.calls,
    callsTo: (method: string) => webApi.calls.filter((c) => c.method === method),
    /** Calls that broke Slack's description (and response_url posts Slack would refuse). */
    rejected: webApi.rejected,
    /** Throws if any call broke the description: use in afterEach. */
    assertNoRejectedCalls() {
      if (webApi.rejected.length === 0) return;
      const lines = webApi.rejected.map((r) => `${r.method}: ${r.reasons.join('; ')}`);
      throw new Error(`Slack fake rejected calls that real Slack would refuse:\n${lines.join('\n')}`);
    },

    async close() {
      mode = mode === 'refused' ? 'refused' : 'up';
      releaseHeld();
      await slackDriver.settle();
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export type SlackFake = Awaited<ReturnType<typeof createSlackFake>>;
export type { Delivery, ResponseUrlPost, SendOptions } from './driver.ts';
export { ACME, GLOBEX } from './store.ts';
export type { FailureSpec, RejectedCall, SlackApiCall } from './webapi.ts';
