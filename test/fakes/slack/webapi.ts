// The Web API: every call is checked against Slack's description (description.ts), authenticated, scope-checked and
// then run against the store, answering in Slack's documented shapes and error codes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { blocksErrors, metadataErrors, viewErrors } from './blocks.ts';
import {
  ALWAYS_ACCEPTED,
  type ArgType,
  checkArg,
  isObject,
  type MethodSpec,
  MODELLED_METHODS,
  methodSpec,
} from './description.ts';
import { OAuthError, type OAuthServer } from './oauth.ts';
import {
  type Channel,
  compareTs,
  type SlackMessage,
  type SlackStore,
  type StoredView,
  type TokenRecord,
  type User,
} from './store.ts';

export interface SlackApiCall {
  method: string;
  /** The arguments as checked: booleans, numbers and JSON-valued arguments (blocks, view, metadata) parsed. */
  args: Record<string, unknown>;
  /** The team of the token used (null: no or unknown token). */
  teamId: string | null;
  tokenKind: 'bot' | 'user' | null;
  /** How the token came: the Authorization header or a `token` argument. */
  tokenVia: 'header' | 'argument' | null;
  contentType: 'form' | 'json' | 'none';
  status: number;
  ok: boolean;
  error: string | null;
  at: Date;
  response: Record<string, unknown>;
}

/** A call that broke the description (unknown, missing or mistyped argument, unmodelled method): a bug in the app. */
export interface RejectedCall {
  method: string;
  args: Record<string, unknown>;
  reasons: string[];
  at: Date;
}

export interface FailureSpec {
  error: string;
  /** HTTP status (default 200, or 429 for `ratelimited`). */
  status?: number;
  /** Seconds for Retry-After (429 only; default 1). */
  retryAfter?: number;
  /** How many calls fail (default 1). */
  times?: number;
}

interface ApiErrorOptions {
  extra?: Record<string, unknown>;
  /** Set when the call broke the description: it is recorded in `rejected` with this reason. */
  rejected?: string;
  status?: number;
  retryAfter?: number;
}

class ApiError extends Error {
  readonly error: string;
  readonly options: ApiErrorOptions;

  constructor(error: string, options: ApiErrorOptions = {}) {
    super(error);
    this.error = error;
    this.options = options;
  }
}

/** A call that breaks the description: answered with `error` and recorded in `rejected`. */
const invalid = (error: string, reason: string) => new ApiError(error, { rejected: reason });

interface Ctx {
  method: string;
  spec: MethodSpec;
  args: Record<string, unknown>;
  token: TokenRecord;
  teamId: string;
}

/** Trigger ids handed out in interaction payloads: valid 3 seconds, usable once (Slack's rules). */
export class TriggerRegistry {
  private readonly triggers = new Map<string, { teamId: string; userId: string; issuedAt: number; used: boolean }>();
  ttlMs = 3000;

  issue(teamId: string, userId: string): string {
    const id = `${Date.now()}${Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e10)}.${[
      ...crypto.getRandomValues(new Uint8Array(16)),
    ]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('')}`;
    this.triggers.set(id, { teamId, userId, issuedAt: Date.now(), used: false });
    return id;
  }

  /** Uses a trigger; returns the user it belongs to, or Slack's error code. */
  consume(id: string, teamId: string): { userId: string } | { error: string } {
    const trigger = this.triggers.get(id);
    if (!trigger || trigger.teamId !== teamId) return { error: 'invalid_trigger_id' };
    if (trigger.used) return { error: 'exchanged_trigger_id' };
    if (Date.now() - trigger.issuedAt > this.ttlMs) return { error: 'expired_trigger_id' };
    trigger.used = true;
    return { userId: trigger.userId };
  }
}

/** The arguments that, when missing, Slack answers with a specific error rather than invalid_arguments. */
const MISSING_ERRORS: Record<string, string[]> = {
  channel: ['channel_not_found'],
  ts: ['message_not_found', 'thread_not_found'],
  message_ts: ['message_not_found'],
  user: ['user_not_found'],
  email: ['users_not_found'],
};

/** Scopes each method needs (current names). Conversation methods need the scope of the conversation's type. */
const METHOD_SCOPES: Record<string, string | null> = {
  'auth.test': null,
  'auth.revoke': null,
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.getPermalink': null,
  'views.open': null,
  'views.update': null,
  'views.publish': null,
  'users.lookupByEmail': 'users:read.email',
  'users.info': 'users:read',
  'conversations.join': 'channels:join',
  'team.info': 'team:read',
};
const READ_SCOPE = { channel: 'channels:read', group: 'groups:read', im: 'im:read', mpim: 'mpim:read' } as const;
const HISTORY_SCOPE = {
  channel: 'channels:history',
  group: 'groups:history',
  im: 'im:history',
  mpim: 'mpim:history',
} as const;
const LIST_TYPES = {
  public_channel: 'channels:read',
  private_channel: 'groups:read',
  im: 'im:read',
  mpim: 'mpim:read',
};

const MAX_TEXT = 40_000;

export interface WebApiDeps {
  store: SlackStore;
  oauth: OAuthServer;
  triggers: TriggerRegistry;
  perChannelPostsPerSecond: number;
  /** Sends an Events API event about a change the app made (its own message, a revoked token). */
  emitEvent: (teamId: string, event: Record<string, unknown>) => void;
}

export class WebApi {
  readonly calls: SlackApiCall[] = [];
  readonly rejected: RejectedCall[] = [];
  private readonly failures = new Map<string, Array<Required<Pick<FailureSpec, 'error'>> & FailureSpec>>();
  private readonly postTimes = new Map<string, number[]>();

  private readonly deps: WebApiDeps;

  constructor(deps: WebApiDeps) {
    this.deps = deps;
  }

  private get store() {
    return this.deps.store;
  }

  failNext(method: string, spec: FailureSpec): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < (spec.times ?? 1); i++) queue.push({ ...spec });
    this.failures.set(method, queue);
  }

  clearFailures(): void {
    this.failures.clear();
  }

  private takeFailure(method: string) {
    for (const key of [method, '*']) {
      const queue = this.failures.get(key);
      if (queue && queue.length > 0) return queue.shift();
    }
    return undefined;
  }

  async handle(req: IncomingMessage, res: ServerResponse, method: string, url: URL, rawBody: string): Promise<void> {
    const at = new Date();
    const contentTypeHeader = (req.headers['content-type'] ?? '').toLowerCase();
    const reasons: string[] = [];
    const raw: Record<string, unknown> = {};
    for (const [k, v] of url.searchParams) raw[k] = v;
    let contentType: SlackApiCall['contentType'] = 'none';
    let tokenArg: unknown;
    if (rawBody.length > 0) {
      if (contentTypeHeader.startsWith('application/json')) {
        contentType = 'json';
        let parsed: unknown;
        try {
          parsed = JSON.parse(rawBody);
        } catch {
          return this.finish(res, method, raw, null, 'json', at, new ApiError('invalid_json'), reasons);
        }
        if (!isObject(parsed))
          return this.finish(res, method, raw, null, 'json', at, new ApiError('json_not_object'), reasons);
        // Slack reads the token of a JSON request only from the Authorization header.
        if ('token' in parsed) reasons.push('a token in a JSON body is ignored: send it as Authorization: Bearer');
        const { token: _ignored, ...rest } = parsed;
        Object.assign(raw, rest);
      } else if (contentTypeHeader.startsWith('application/x-www-form-urlencoded') || contentTypeHeader === '') {
        contentType = 'form';
        for (const [k, v] of new URLSearchParams(rawBody)) raw[k] = v;
      } else {
        return this.finish(
          res,
          method,
          raw,
          null,
          'none',
          at,
          invalid('invalid_form_data', `unsupported content type ${contentTypeHeader}`),
          reasons,
        );
      }
    }
    if ('token' in raw) {
      tokenArg = raw.token;
      delete raw.token;
    }

    const spec = methodSpec(method);
    if (!spec) {
      const error = new ApiError('unknown_method', { rejected: `${method} is not a Slack Web API method` });
      return this.finish(res, method, raw, null, contentType, at, error, reasons);
    }
    if (!(MODELLED_METHODS as readonly string[]).includes(method)) {
      const error = new ApiError('fake_not_modelled', {
        rejected: `${method} exists in Slack but the fake does not model it (add it to test/fakes/slack)`,
      });
      return this.finish(res, method, raw, null, contentType, at, error, reasons);
    }
    if (contentType === 'json' && !spec.acceptsJson)
      reasons.push(`${method} does not accept application/json bodies (only application/x-www-form-urlencoded)`);

    // The description check: unknown arguments, wrong types, missing required arguments.
    const args: Record<string, unknown> = {};
    const missing: string[] = [];
    const mistyped: string[] = [];
    for (const [name, value] of Object.entries(raw)) {
      const param = spec.params.get(name);
      if (!param) {
        if ((ALWAYS_ACCEPTED as readonly string[]).includes(name)) {
          args[name] = value;
          continue;
        }
        reasons.push(`unknown argument ${name}`);
        args[name] = value;
        continue;
      }
      if (value === '' && param.required) continue;
      const checked = checkArg(param.type, value, contentType === 'json');
      if (checked.ok) args[name] = checked.value;
      else {
        reasons.push(`argument ${name}: ${checked.reason}`);
        mistyped.push(name);
        args[name] = value;
      }
    }
    const basic = parseBasicAuth(req.headers.authorization);
    for (const param of spec.params.values()) {
      if (!param.required || args[param.name] !== undefined) continue;
      if (method === 'oauth.v2.access' && basic && (param.name === 'client_id' || param.name === 'client_secret'))
        continue;
      missing.push(param.name);
      reasons.push(`missing required argument ${param.name}`);
    }

    const failure = this.takeFailure(method);
    if (failure) {
      const status = failure.status ?? (failure.error === 'ratelimited' ? 429 : 200);
      const error = new ApiError(failure.error, { status, retryAfter: failure.retryAfter ?? 1 });
      return this.finish(res, method, args, null, contentType, at, error, reasons);
    }

    if (method === 'oauth.v2.access') {
      if (reasons.length > 0) {
        const code = missing.includes('code') ? 'invalid_code' : 'invalid_arguments';
        return this.finish(res, method, args, null, contentType, at, invalid(code, reasons.join('; ')), reasons);
      }
      try {
        const result = this.deps.oauth.exchange({
          clientId: (args.client_id as string | undefined) ?? basic?.user,
          clientSecret: (args.client_secret as string | undefined) ?? basic?.password,
          code: args.code as string | undefined,
          redirectUri: args.redirect_uri as string | undefined,
          grantType: args.grant_type as string | undefined,
        });
        const { ok: _ok, ...body } = result;
        return this.finish(res, method, args, null, contentType, at, body, reasons);
      } catch (error) {
        if (error instanceof OAuthError)
          return this.finish(res, method, args, null, contentType, at, new ApiError(error.error), reasons);
        throw error;
      }
    }

    // Authentication comes before the argument errors, as at Slack.
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const tokenValue = bearer ?? (typeof tokenArg === 'string' && contentType !== 'json' ? tokenArg : undefined);
    const tokenVia: SlackApiCall['tokenVia'] = bearer ? 'header' : tokenValue ? 'argument' : null;
    const token = tokenValue ? this.store.tokens.get(tokenValue) : undefined;
    const authError = !tokenValue
      ? 'not_authed'
      : !token
        ? 'invalid_auth'
        : token.revoked
          ? 'token_revoked'
          : !this.store.team(token.teamId).active
            ? 'account_inactive'
            : null;
    if (authError || !token)
      return this.finish(
        res,
        method,
        args,
        token ?? null,
        contentType,
        at,
        new ApiError(authError ?? ''),
        reasons,
        tokenVia,
      );

    if (reasons.length > 0) {
      const specific = missing.flatMap((name) => (MISSING_ERRORS[name] ?? []).filter((e) => spec.errors.includes(e)));
      let code = specific[0] ?? 'invalid_arguments';
      if (mistyped.includes('latest') && spec.errors.includes('invalid_ts_latest')) code = 'invalid_ts_latest';
      if (mistyped.includes('oldest') && spec.errors.includes('invalid_ts_oldest')) code = 'invalid_ts_oldest';
      const error = new ApiError(code, { extra: errorMessages(reasons) });
      return this.finish(res, method, args, token, contentType, at, error, reasons, tokenVia);
    }

    const needed = METHOD_SCOPES[method];
    if (needed && !token.scopes.includes(needed))
      return this.finish(res, method, args, token, contentType, at, missingScope(needed, token), reasons, tokenVia);

    try {
      const body = this.run({ method, spec, args, token, teamId: token.teamId });
      return this.finish(res, method, args, token, contentType, at, body, reasons, tokenVia);
    } catch (error) {
      if (error instanceof ApiError)
        return this.finish(res, method, args, token, contentType, at, error, reasons, tokenVia);
      throw error;
    }
  }

  private finish(
    res: ServerResponse,
    method: string,
    args: Record<string, unknown>,
    token: TokenRecord | null,
    contentType: SlackApiCall['contentType'],
    at: Date,
    outcome: Record<string, unknown> | ApiError,
    reasons: string[],
    tokenVia: SlackApiCall['tokenVia'] = null,
  ): void {
    const allReasons = [...reasons];
    if (outcome instanceof ApiError && outcome.options.rejected) allReasons.push(outcome.options.rejected);
    if (allReasons.length > 0) this.rejected.push({ method, args, reasons: allReasons, at });
    let status = 200;
    let body: Record<string, unknown>;
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    if (outcome instanceof ApiError) {
      status = outcome.options.status ?? (outcome.error === 'ratelimited' ? 429 : 200);
      body = { ok: false, error: outcome.error, ...(outcome.options.extra ?? {}) };
      if (outcome.error === 'invalid_arguments' && !body.response_metadata && allReasons.length > 0)
        Object.assign(body, errorMessages(allReasons));
      if (status === 429) headers['retry-after'] = String(outcome.options.retryAfter ?? 1);
    } else {
      body = { ok: true, ...outcome };
    }
    if (token) {
      headers['x-oauth-scopes'] = token.scopes.join(',');
      const needed = METHOD_SCOPES[method];
      if (needed) headers['x-accepted-oauth-scopes'] = needed;
    }
    this.calls.push({
      method,
      args,
      teamId: token?.teamId ?? null,
      tokenKind: token?.kind ?? null,
      tokenVia,
      contentType,
      status,
      ok: body.ok === true,
      error: typeof body.error === 'string' ? body.error : null,
      at,
      response: body,
    });
    res.writeHead(status, headers).end(JSON.stringify(body));
  }

  private run(ctx: Ctx): Record<string, unknown> {
    switch (ctx.method) {
      case 'auth.test':
        return this.authTest(ctx);
      case 'auth.revoke':
        return this.authRevoke(ctx);
      case 'chat.postMessage':
        return this.postMessage(ctx);
      case 'chat.update':
        return this.update(ctx);
      case 'chat.delete':
        return this.delete(ctx);
      case 'chat.postEphemeral':
        return this.postEphemeral(ctx);
      case 'chat.getPermalink':
        return this.getPermalink(ctx);
      case 'views.open':
        return this.viewsOpen(ctx);
      case 'views.update':
        return this.viewsUpdate(ctx);
      case 'views.publish':
        return this.viewsPublish(ctx);
      case 'users.lookupByEmail':
        return this.lookupByEmail(ctx);
      case 'users.info':
        return this.usersInfo(ctx);
      case 'conversations.list':
        return this.conversationsList(ctx);
      case 'conversations.info':
        return this.conversationsInfo(ctx);
      case 'conversations.join':
        return this.conversationsJoin(ctx);
      case 'conversations.history':
        return this.conversationsHistory(ctx);
      case 'conversations.replies':
        return this.conversationsReplies(ctx);
      case 'conversations.open':
        return this.conversationsOpen(ctx);
      case 'team.info':
        return this.teamInfo(ctx);
    }
    throw new ApiError('fake_not_modelled', { rejected: `${ctx.method} has no handler` });
  }

  // ---- helpers --------------------------------------------------------------------------------------------------

  private isBot(ctx: Ctx) {
    return ctx.token.kind === 'bot';
  }

  /** Whether the caller (the bot, or the user of a user token) is in the conversation. */
  private isMember(ctx: Ctx, channel: Channel) {
    return channel.members.has(ctx.token.userId);
  }

  /** A conversation the caller can see: public ones, and others it is a member of; else channel_not_found. */
  private visibleChannel(ctx: Ctx, idOrName: string): Channel {
    const channel = this.store.channelIn(ctx.teamId, idOrName);
    if (!channel) throw new ApiError('channel_not_found');
    if (channel.isPrivate && !this.isMember(ctx, channel)) throw new ApiError('channel_not_found');
    return channel;
  }

  private requireScope(ctx: Ctx, scope: string) {
    if (!ctx.token.scopes.includes(scope)) throw missingScope(scope, ctx.token);
  }

  private botMessageBase(ctx: Ctx): SlackMessage {
    const { botUserId, botId } = this.store.bot(ctx.teamId);
    const { app } = this.store;
    const base: SlackMessage = { type: 'message', ts: '', text: '', team: ctx.teamId };
    if (this.isBot(ctx)) {
      Object.assign(base, {
        user: botUserId,
        bot_id: botId,
        app_id: app.appId,
        bot_profile: {
          id: botId,
          app_id: app.appId,
          name: app.name,
          icons: {
            image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png',
            image_48: 'https://a.slack-edge.com/80588/img/plugins/app/bot_48.png',
            image_72: 'https://a.slack-edge.com/80588/img/plugins/app/service_72.png',
          },
          deleted: false,
          updated: 1_700_000_000,
          team_id: ctx.teamId,
        },
      });
    } else {
      base.user = ctx.token.userId;
    }
    return base;
  }

  /** text/blocks/attachments/markdown_text of a message call, checked as Slack checks them. */
  private messageContent(ctx: Ctx, required: boolean) {
    const {
      text,
      blocks,
      attachments,
      markdown_text: markdown,
    } = ctx.args as {
      text?: string;
      blocks?: unknown[];
      attachments?: unknown[];
      markdown_text?: string;
    };
    if (required && !text && !blocks?.length && !attachments?.length && !markdown)
      throw invalid('no_text', 'one of text, blocks, attachments or markdown_text is required');
    if (markdown !== undefined && (text !== undefined || blocks !== undefined))
      throw invalid('invalid_arguments', 'markdown_text cannot be combined with text or blocks');
    if ((text?.length ?? 0) > MAX_TEXT || (markdown?.length ?? 0) > 12_000) throw new ApiError('msg_too_long');
    if (blocks) {
      const errors = blocksErrors(blocks, 50, false);
      if (errors.length > 0)
        throw new ApiError('invalid_blocks', { extra: errorMessages(errors), rejected: errors.join('; ') });
    }
    if (attachments && attachments.length > 100) throw new ApiError('too_many_attachments');
    const metadata = ctx.args.metadata as Record<string, unknown> | undefined;
    if (metadata) {
      const errors = metadataErrors(metadata);
      if (errors.length > 0)
        throw new ApiError('invalid_metadata_format', { extra: errorMessages(errors), rejected: errors.join('; ') });
    }
    return { text: text ?? markdown ?? '', blocks, attachments, metadata };
  }

  private rateLimit(channelId: string) {
    const limit = this.deps.perChannelPostsPerSecond;
    if (!limit) return;
    const now = Date.now();
    const recent = (this.postTimes.get(channelId) ?? []).filter((t) => now - t < 1000);
    if (recent.length >= limit) {
      this.postTimes.set(channelId, recent);
      const oldest = recent[0] ?? now;
      throw new ApiError('ratelimited', {
        status: 429,
        retryAfter: Math.max(1, Math.ceil((oldest + 1000 - now) / 1000)),
      });
    }
    recent.push(now);
    this.postTimes.set(channelId, recent);
  }

  private outgoingMessage(message: SlackMessage, withMetadata: boolean): SlackMessage {
    const copy = structuredClone(message);
    if (!withMetadata) delete copy.metadata;
    return copy;
  }

  private emitMessageEvent(ctx: Ctx, channel: Channel, event: Record<string, unknown>) {
    // Message events come only from conversations the app's bot is in (chat:write.public posts elsewhere are silent).
    if (!channel.members.has(this.store.bot(ctx.teamId).botUserId)) return;
    this.deps.emitEvent(ctx.teamId, {
      ...event,
      channel: channel.id,
      channel_type: this.store.channelType(channel),
    });
  }

  // ---- auth -----------------------------------------------------------------------------------------------------

  private authTest(ctx: Ctx) {
    const team = this.store.team(ctx.teamId);
    const user = this.store.users.get(ctx.token.userId);
    return {
      url: `https://${team.domain}.slack.com/`,
      team: team.name,
      user: user?.name ?? '',
      team_id: team.id,
      user_id: ctx.token.userId,
      ...(this.isBot(ctx) ? { bot_id: this.store.bot(ctx.teamId).botId } : {}),
      is_enterprise_install: false,
    };
  }

  private authRevoke(ctx: Ctx) {
    if (ctx.args.test === true) return { revoked: false };
    ctx.token.revoked = true;
    this.deps.emitEvent(ctx.teamId, {
      type: 'tokens_revoked',
      tokens: ctx.token.kind === 'bot' ? { bot: [ctx.token.userId] } : { oauth: [ctx.token.userId] },
    });
    return { revoked: true };
  }

  // ---- chat -----------------------------------------------------------------------------------------------------

  private postMessage(ctx: Ctx) {
    const target = ctx.args.channel as string;
    let channel: Channel;
    const user = /^[UW]/.test(target) ? this.store.visibleUser(ctx.teamId, target) : undefined;
    if (user && this.isBot(ctx)) {
      // A user id posts to the app's DM with that user (the App Home's Messages tab).
      channel = this.store.openDm(ctx.teamId, user.id);
    } else {
      channel = this.visibleChannel(ctx, target);
    }
    if (channel.isArchived) throw new ApiError('is_archived');
    if (!this.isMember(ctx, channel) && !(this.isBot(ctx) && ctx.token.scopes.includes('chat:write.public')))
      throw new ApiError('not_in_channel');
    const content = this.messageContent(ctx, true);
    this.rateLimit(channel.id);
    const message: SlackMessage = { ...this.botMessageBase(ctx), ts: this.store.nextTs(), text: content.text };
    if (content.blocks) message.blocks = content.blocks;
    if (content.attachments) message.attachments = content.attachments;
    if (content.metadata) message.metadata = content.metadata as SlackMessage['metadata'];
    // Slack honours a custom name only with chat:write.customize.
    if (typeof ctx.args.username === 'string' && ctx.token.scopes.includes('chat:write.customize'))
      message.username = ctx.args.username;
    const threadTs = ctx.args.thread_ts as string | undefined;
    if (threadTs) {
      const parent = this.store.message(channel.id, threadTs);
      // A reply to a reply joins the parent's thread.
      message.thread_ts = parent?.thread_ts ?? threadTs;
      if (ctx.args.reply_broadcast === true) message.subtype = 'thread_broadcast';
    }
    this.store.addMessage(channel.id, message);
    this.emitMessageEvent(ctx, channel, { ...this.outgoingMessage(message, true), event_ts: message.ts });
    return { channel: channel.id, ts: message.ts, message: this.outgoingMessage(message, true) };
  }

  private ownMessage(ctx: Ctx, channel: Channel, ts: string, refusal: string): SlackMessage {
    const message = this.store.message(channel.id, ts);
    if (!message || message.subtype === 'tombstone') throw new ApiError('message_not_found');
    const own = this.isBot(ctx)
      ? message.bot_id === this.store.bot(ctx.teamId).botId
      : message.user === ctx.token.userId;
    if (!own) throw new ApiError(refusal);
    return message;
  }

  private update(ctx: Ctx) {
    const channel = this.visibleChannel(ctx, ctx.args.channel as string);
    const message = this.ownMessage(ctx, channel, ctx.args.ts as string, 'cant_update_message');
    const previous = structuredClone(message);
    const content = this.messageContent(ctx, true);
    if (ctx.args.text !== undefined || ctx.args.markdown_text !== undefined) message.text = content.text;
    // Omitted blocks/attachments are kept; an empty array removes them (Slack's rule).
    if (content.blocks) {
      if (content.blocks.length > 0) message.blocks = content.blocks;
      else delete message.blocks;
    }
    if (content.attachments) {
      if (content.attachments.length > 0) message.attachments = content.attachments;
      else delete message.attachments;
    }
    if (content.metadata) message.metadata = content.metadata as SlackMessage['metadata'];
    if (ctx.args.reply_broadcast === true && message.thread_ts && message.thread_ts !== message.ts)
      message.subtype = 'thread_broadcast';
    message.edited = { user: ctx.token.userId, ts: this.store.nextTs() };
    this.emitMessageEvent(ctx, channel, {
      type: 'message',
      subtype: 'message_changed',
      hidden: true,
      message: this.outgoingMessage(message, true),
      previous_message: previous,
      ts: message.edited.ts,
      event_ts: message.edited.ts,
    });
    const { team: _team, ...shown } = this.outgoingMessage(message, true);
    return { channel: channel.id, ts: message.ts, text: message.text, message: shown };
  }

  private delete(ctx: Ctx) {
    const channel = this.visibleChannel(ctx, ctx.args.channel as string);
    const message = this.ownMessage(ctx, channel, ctx.args.ts as string, 'cant_delete_message');
    const previous = structuredClone(message);
    if ((message.reply_count ?? 0) > 0) {
      // A parent with replies leaves a tombstone so the thread stays readable.
      for (const key of Object.keys(message))
        if (
          !['type', 'ts', 'thread_ts', 'reply_count', 'reply_users', 'reply_users_count', 'latest_reply'].includes(key)
        )
          delete (message as unknown as Record<string, unknown>)[key];
      Object.assign(message, {
        subtype: 'tombstone',
        text: 'This message was deleted.',
        user: 'USLACKBOT',
        hidden: true,
      });
    } else {
      this.store.removeMessage(channel.id, message.ts);
    }
    const eventTs = this.store.nextTs();
    this.emitMessageEvent(ctx, channel, {
      type: 'message',
      subtype: 'message_deleted',
      hidden: true,
      deleted_ts: previous.ts,
      previous_message: previous,
      ts: eventTs,
      event_ts: eventTs,
    });
    return { channel: channel.id, ts: previous.ts };
  }

  private postEphemeral(ctx: Ctx) {
    const channel = this.visibleChannel(ctx, ctx.args.channel as string);
    if (channel.isArchived) throw new ApiError('is_archived');
    const user = this.store.visibleUser(ctx.teamId, ctx.args.user as string);
    if (!user || !channel.members.has(user.id)) throw new ApiError('user_not_in_channel');
    const content = this.messageContent(ctx, true);
    const ts = this.store.nextTs();
    this.store.ephemerals.push({
      channel: channel.id,
      user: user.id,
      ts,
      text: content.text,
      blocks: content.blocks,
      thread_ts: ctx.args.thread_ts as string | undefined,
      via: 'chat.postEphemeral',
    });
    return { message_ts: ts };
  }

  private getPermalink(ctx: Ctx) {
    const channel = this.visibleChannel(ctx, ctx.args.channel as string);
    const message = this.store.message(channel.id, ctx.args.message_ts as string);
    if (!message) throw new ApiError('message_not_found');
    const team = this.store.team(ctx.teamId);
    let permalink = `https://${team.domain}.slack.com/archives/${channel.id}/p${message.ts.replace('.', '')}`;
    if (message.thread_ts && message.thread_ts !== message.ts)
      permalink += `?thread_ts=${message.thread_ts}&cid=${channel.id}`;
    return { channel: channel.id, permalink };
  }

  // ---- views ----------------------------------------------------------------------------------------------------

  private checkView(view: Record<string, unknown>, allowed: Array<'modal' | 'home'>) {
    const errors = viewErrors(view, allowed);
    if (errors.length > 0)
      throw new ApiError('invalid_arguments', { extra: errorMessages(errors), rejected: errors.join('; ') });
  }

  viewPayload(stored: StoredView): Record<string, unknown> {
    const { botId } = this.store.bot(stored.teamId);
    const v = stored.view;
    return {
      id: stored.id,
      team_id: stored.teamId,
      type: stored.type,
      blocks: v.blocks ?? [],
      private_metadata: v.private_metadata ?? '',
      callback_id: v.callback_id ?? '',
      state: { values: stored.stateValues },
      hash: stored.hash,
      title: v.title ?? null,
      clear_on_close: v.clear_on_close ?? false,
      notify_on_close: v.notify_on_close ?? false,
      close: v.close ?? null,
      submit: v.submit ?? null,
      previous_view_id: stored.previousViewId,
      root_view_id: stored.rootViewId,
      app_id: this.store.app.appId,
      external_id: stored.externalId ?? '',
      app_installed_team_id: stored.teamId,
      bot_id: botId,
    };
  }

  private newHash() {
    return `${Math.floor(Date.now() / 1000)}.${Math.random().toString(36).slice(2, 10)}`;
  }

  private checkExternalId(view: Record<string, unknown>, teamId: string, except?: string) {
    const externalId = view.external_id as string | undefined;
    if (!externalId) return;
    for (const v of this.store.views.values())
      if (v.teamId === teamId && v.externalId === externalId && v.id !== except && !v.closed)
        throw new ApiError('duplicate_external_id');
  }

  private viewsOpen(ctx: Ctx) {
    const trigger = (ctx.args.trigger_id ?? ctx.args.interactivity_pointer) as string | undefined;
    if (!trigger) throw invalid('invalid_arguments', 'one of trigger_id or interactivity_pointer is required');
    const view = ctx.args.view as Record<string, unknown>;
    this.checkView(view, ['modal']);
    const consumed = this.deps.triggers.consume(trigger, ctx.teamId);
    if ('error' in consumed) throw new ApiError(consumed.error);
    this.checkExternalId(view, ctx.teamId);
    const id = this.store.nextId('V', 11);
    const stored: StoredView = {
      id,
      teamId: ctx.teamId,
      userId: consumed.userId,
      type: 'modal',
      view,
      hash: this.newHash(),
      externalId: view.external_id as string | undefined,
      rootViewId: id,
      previousViewId: null,
      stateValues: {},
      closed: false,
    };
    this.store.views.set(id, stored);
    return { view: this.viewPayload(stored) };
  }

  private viewsUpdate(ctx: Ctx) {
    const viewId = ctx.args.view_id as string | undefined;
    const externalId = ctx.args.external_id as string | undefined;
    if (!viewId && !externalId) throw invalid('invalid_arguments', 'one of view_id or external_id is required');
    const stored = viewId
      ? this.store.views.get(viewId)
      : [...this.store.views.values()].find((v) => v.externalId === externalId && v.teamId === ctx.teamId);
    if (!stored || stored.teamId !== ctx.teamId) throw new ApiError('not_found');
    if (ctx.args.hash !== undefined && ctx.args.hash !== stored.hash) throw new ApiError('hash_conflict');
    const view = ctx.args.view as Record<string, unknown>;
    this.checkView(view, [stored.type]);
    this.checkExternalId(view, ctx.teamId, stored.id);
    stored.view = view;
    stored.externalId = (view.external_id as string | undefined) ?? stored.externalId;
    stored.hash = this.newHash();
    return { view: this.viewPayload(stored) };
  }

  private viewsPublish(ctx: Ctx) {
    const user = this.store.visibleUser(ctx.teamId, ctx.args.user_id as string);
    if (!user || user.teamId !== ctx.teamId) throw new ApiError('user_not_found');
    const view = ctx.args.view as Record<string, unknown>;
    this.checkView(view, ['home']);
    const key = `${ctx.teamId}:${user.id}`;
    const existing = this.store.homeViews.get(key);
    if (existing && ctx.args.hash !== undefined && ctx.args.hash !== existing.hash) throw new ApiError('hash_conflict');
    const id = existing?.id ?? this.store.nextId('V', 11);
    const stored: StoredView = {
      id,
      teamId: ctx.teamId,
      userId: user.id,
      type: 'home',
      view,
      hash: this.newHash(),
      externalId: view.external_id as string | undefined,
      rootViewId: id,
      previousViewId: null,
      stateValues: {},
      closed: false,
    };
    this.store.homeViews.set(key, stored);
    this.store.views.set(id, stored);
    return { view: this.viewPayload(stored) };
  }

  // ---- users ----------------------------------------------------------------------------------------------------

  userObject(ctx: { teamId: string; token: TokenRecord }, user: User, includeLocale = false): Record<string, unknown> {
    const showEmail = ctx.token.scopes.includes('users:read.email') && user.email !== null;
    const [first = '', ...rest] = user.realName.split(' ');
    const image = (size: number) => `https://avatars.slack-edge.com/fake/${user.id}_${size}.png`;
    const profile: Record<string, unknown> = {
      title: '',
      phone: '',
      skype: '',
      real_name: user.realName,
      real_name_normalized: user.realName,
      display_name: user.isBot ? '' : user.name,
      display_name_normalized: user.isBot ? '' : user.name,
      fields: null,
      status_text: '',
      status_emoji: '',
      status_expiration: 0,
      avatar_hash: `g${user.id.slice(-6).toLowerCase()}`,
      first_name: first,
      last_name: rest.join(' '),
      image_24: image(24),
      image_32: image(32),
      image_48: image(48),
      image_72: image(72),
      image_192: image(192),
      image_512: image(512),
      team: user.teamId,
    };
    if (showEmail) profile.email = user.email;
    if (user.isBot) {
      profile.bot_id = user.botId;
      profile.api_app_id = this.store.app.appId;
      profile.always_active = true;
    }
    const object: Record<string, unknown> = {
      id: user.id,
      team_id: user.teamId,
      name: user.name,
      deleted: user.deleted,
      color: '9f69e7',
      real_name: user.realName,
      tz: user.tz,
      tz_label: user.tz === 'Europe/London' ? 'Greenwich Mean Time' : 'Pacific Standard Time',
      tz_offset: user.tz === 'Europe/London' ? 0 : -28_800,
      profile,
      is_admin: user.isAdmin,
      is_owner: user.isAdmin,
      is_primary_owner: user.isAdmin,
      is_restricted: false,
      is_ultra_restricted: false,
      is_bot: user.isBot,
      is_app_user: false,
      updated: 1_700_000_000,
    };
    if (includeLocale) object.locale = 'en-US';
    return object;
  }

  private lookupByEmail(ctx: Ctx) {
    const user = this.store.userByEmail(ctx.teamId, ctx.args.email as string);
    if (!user || user.deleted) throw new ApiError('users_not_found');
    return { user: this.userObject(ctx, user) };
  }

  private usersInfo(ctx: Ctx) {
    const user = this.store.visibleUser(ctx.teamId, ctx.args.user as string);
    if (!user) throw new ApiError('user_not_found');
    return { user: this.userObject(ctx, user, ctx.args.include_locale === true) };
  }

  // ---- conversations --------------------------------------------------------------------------------------------

  conversationObject(ctx: { token: TokenRecord }, channel: Channel, numMembers = false): Record<string, unknown> {
    if (channel.isIm) {
      return {
        id: channel.id,
        created: channel.created,
        is_archived: false,
        is_im: true,
        is_org_shared: false,
        user: channel.imUser,
        is_user_deleted: false,
        priority: 0,
      };
    }
    const topic = { value: channel.topic, creator: channel.topic ? channel.creator : '', last_set: 0 };
    const purpose = { value: channel.purpose, creator: channel.purpose ? channel.creator : '', last_set: 0 };
    const object: Record<string, unknown> = {
      id: channel.id,
      name: channel.name,
      is_channel: !channel.isMpim,
      is_group: false,
      is_im: false,
      is_mpim: channel.isMpim,
      is_private: channel.isPrivate,
      created: channel.created,
      is_archived: channel.isArchived,
      is_general: channel.isGeneral,
      unlinked: 0,
      name_normalized: channel.name,
      is_shared: channel.isExtShared,
      is_org_shared: false,
      is_ext_shared: channel.isExtShared,
      is_pending_ext_shared: false,
      pending_shared: [],
      parent_conversation: null,
      creator: channel.creator,
      shared_team_ids: [channel.teamId],
      pending_connected_team_ids: [],
      is_member: channel.members.has(ctx.token.userId),
      topic,
      purpose,
      previous_names: [],
    };
    if (channel.isExtShared) object.connected_team_ids = [channel.teamId, 'T0CUSTOMR1'];
    if (numMembers) object.num_members = channel.members.size;
    return object;
  }

  private conversationsList(ctx: Ctx) {
    const requested = ((ctx.args.types as string | undefined) ?? 'public_channel')
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    for (const type of requested)
      if (!(type in LIST_TYPES)) throw invalid('invalid_types', `unknown conversation type ${type}`);
    for (const type of requested) this.requireScope(ctx, LIST_TYPES[type as keyof typeof LIST_TYPES]);
    const limit = this.limit(ctx, 100, 1000);
    const all = [...this.store.channels.values()].filter((c) => {
      if (c.teamId !== ctx.teamId) return false;
      if (ctx.args.exclude_archived === true && c.isArchived) return false;
      if (c.isIm) return requested.includes('im') && this.isMember(ctx, c);
      if (c.isMpim) return requested.includes('mpim') && this.isMember(ctx, c);
      if (c.isPrivate) return requested.includes('private_channel') && this.isMember(ctx, c);
      return requested.includes('public_channel');
    });
    const start = this.cursorStart(
      ctx,
      all.map((c) => c.id),
    );
    const page = all.slice(start, start + limit);
    const next = start + limit < all.length ? encodeCursor(all[start + limit - 1]?.id ?? '') : '';
    return {
      channels: page.map((c) => this.conversationObject(ctx, c, true)),
      response_metadata: { next_cursor: next },
    };
  }

  private conversationsInfo(ctx: Ctx) {
    const channel = this.visibleChannel(ctx, ctx.args.channel as string);
    this.requireScope(ctx, READ_SCOPE[this.store.channelType(channel)]);
    const object = this.conversationObject(ctx, channel, ctx.args.include_num_members === true);
    if (ctx.args.include_locale === true) object.locale = 'en-US';
    return { channel: object };
  }

  private conversationsJoin(ctx: Ctx) {
    const channel = this.store.channelIn(ctx.teamId, ctx.args.channel as string);
    if (!channel) throw new ApiError('channel_not_found');
    if (channel.isIm || channel.isMpim || channel.isPrivate) {
      if (channel.isPrivate && !this.isMember(ctx, channel) && !channel.isIm && !channel.isMpim)
        throw new ApiError('channel_not_found');
      throw new ApiError('method_not_supported_for_channel_type');
    }
    if (channel.isArchived) throw new ApiError('is_archived');
    if (this.isMember(ctx, channel)) {
      return {
        channel: this.conversationObject(ctx, channel),
        warning: 'already_in_channel',
        response_metadata: { warnings: ['already_in_channel'] },
      };
    }
    channel.members.add(ctx.token.userId);
    return { channel: this.conversationObject(ctx, channel) };
  }

  private limit(ctx: Ctx, fallback: number, max: number): number {
    const limit = ctx.args.limit as number | undefined;
    if (limit === undefined || limit <= 0) return fallback;
    return Math.min(limit, max);
  }

  /** Index to start from for a cursor (`next_cursor` of a previous page); invalid_cursor if it names nothing. */
  private cursorStart(ctx: Ctx, keys: string[]): number {
    const cursor = ctx.args.cursor as string | undefined;
    if (!cursor) return 0;
    const after = decodeCursor(cursor);
    const index = after === null ? -1 : keys.indexOf(after);
    if (index < 0) throw new ApiError('invalid_cursor');
    return index + 1;
  }

  private readableChannel(ctx: Ctx): Channel {
    const channel = this.visibleChannel(ctx, ctx.args.channel as string);
    this.requireScope(ctx, HISTORY_SCOPE[this.store.channelType(channel)]);
    // A bot reads only the conversations it is in (Slack: not_in_channel for public ones it has not joined).
    if (!this.isMember(ctx, channel)) throw new ApiError('not_in_channel');
    return channel;
  }

  private inWindow(ctx: Ctx, ts: string): boolean {
    const inclusive = ctx.args.inclusive === true;
    const oldest = ctx.args.oldest as string | undefined;
    const latest = ctx.args.latest as string | undefined;
    if (oldest !== undefined) {
      const c = compareTs(ts, oldest);
      if (c < 0 || (c === 0 && !inclusive)) return false;
    }
    if (latest !== undefined) {
      const c = compareTs(ts, latest);
      if (c > 0 || (c === 0 && !inclusive)) return false;
    }
    return true;
  }

  /** Metadata is shown for the app's own messages, and for all messages with include_all_metadata. */
  private showMetadata(ctx: Ctx, message: SlackMessage) {
    return ctx.args.include_all_metadata === true || message.app_id === this.store.app.appId;
  }

  private conversationsHistory(ctx: Ctx) {
    const channel = this.readableChannel(ctx);
    const all = this.store.history(channel.id).filter((m) => this.inWindow(ctx, m.ts));
    const limit = this.limit(ctx, 100, 999);
    const start = this.cursorStart(
      ctx,
      all.map((m) => m.ts),
    );
    const page = all.slice(start, start + limit);
    const hasMore = start + limit < all.length;
    return {
      messages: page.map((m) => this.outgoingMessage(m, this.showMetadata(ctx, m))),
      has_more: hasMore,
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      ...(hasMore ? { response_metadata: { next_cursor: encodeCursor(page[page.length - 1]?.ts ?? '') } } : {}),
    };
  }

  private conversationsReplies(ctx: Ctx) {
    const channel = this.readableChannel(ctx);
    const message = this.store.message(channel.id, ctx.args.ts as string);
    if (!message) throw new ApiError('thread_not_found');
    const root = message.thread_ts ?? message.ts;
    const thread = this.store.thread(channel.id, root);
    const [parent, ...replies] = thread;
    const window = replies.filter((m) => this.inWindow(ctx, m.ts));
    const all = parent ? [parent, ...window] : window;
    const limit = this.limit(ctx, 1000, 1000);
    const start = this.cursorStart(
      ctx,
      all.map((m) => m.ts),
    );
    const page = all.slice(start, start + limit);
    const hasMore = start + limit < all.length;
    return {
      messages: page.map((m) => this.outgoingMessage(m, this.showMetadata(ctx, m))),
      has_more: hasMore,
      ...(hasMore ? { response_metadata: { next_cursor: encodeCursor(page[page.length - 1]?.ts ?? '') } } : {}),
    };
  }

  private conversationsOpen(ctx: Ctx) {
    if (ctx.args.channel !== undefined) {
      const channel = this.visibleChannel(ctx, ctx.args.channel as string);
      if (!channel.isIm && !channel.isMpim) throw new ApiError('method_not_supported_for_channel_type');
      return { no_op: true, already_open: true, channel: { id: channel.id } };
    }
    if (ctx.args.users === undefined) throw invalid('users_list_not_supplied', 'one of channel or users is required');
    const ids = (ctx.args.users as string)
      .split(',')
      .map((u) => u.trim())
      .filter(Boolean);
    if (ids.length === 0) throw invalid('users_list_not_supplied', 'users is empty');
    if (ids.length > 8) throw new ApiError('too_many_users');
    for (const id of ids) if (!this.store.visibleUser(ctx.teamId, id)) throw new ApiError('user_not_found');
    const existingId = ids.length === 1 ? `D${ids[0]?.slice(1)}` : undefined;
    const alreadyOpen = existingId !== undefined && this.store.channels.has(existingId);
    if (ids.length === 1) {
      this.requireScope(ctx, 'im:write');
      if (ctx.args.prevent_creation === true && !alreadyOpen) return { no_op: true, channel: {} };
      const channel = this.store.openDm(ctx.teamId, ids[0] as string);
      const full = ctx.args.return_im === true;
      return {
        ...(alreadyOpen ? { no_op: true, already_open: true } : {}),
        channel: full ? { ...this.conversationObject(ctx, channel), is_open: true } : { id: channel.id },
      };
    }
    this.requireScope(ctx, 'mpim:write');
    const channel = this.store.openMpim(ctx.teamId, ids);
    return { channel: this.conversationObject(ctx, channel) };
  }

  // ---- team -----------------------------------------------------------------------------------------------------

  private teamInfo(ctx: Ctx) {
    const wanted = ctx.args.team as string | undefined;
    if (wanted !== undefined && wanted !== ctx.teamId) throw new ApiError('team_not_found');
    const team = this.store.team(ctx.teamId);
    return {
      team: {
        id: team.id,
        name: team.name,
        domain: team.domain,
        email_domain: team.emailDomain,
        icon: {
          image_34: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-34.png',
          image_44: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-44.png',
          image_68: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-68.png',
          image_88: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-88.png',
          image_102: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-102.png',
          image_132: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-132.png',
          image_230: 'https://a.slack-edge.com/80588/img/avatars-teams/ava_0001-230.png',
          image_default: true,
        },
      },
    };
  }
}

function missingScope(needed: string, token: TokenRecord) {
  return new ApiError('missing_scope', { extra: { needed, provided: token.scopes.join(',') } });
}

function errorMessages(reasons: string[]) {
  return { response_metadata: { messages: reasons.map((r) => `[ERROR] ${r}`) } };
}

function encodeCursor(key: string): string {
  return Buffer.from(`next:${key}`).toString('base64');
}

function decodeCursor(cursor: string): string | null {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  return decoded.startsWith('next:') ? decoded.slice(5) : null;
}

function parseBasicAuth(header: string | undefined): { user: string; password: string } | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return null;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { user: decodeURIComponent(decoded.slice(0, colon)), password: decodeURIComponent(decoded.slice(colon + 1)) };
}

export type { ArgType };
