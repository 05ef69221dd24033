// What Slack sends to the app's Request URL: Events API envelopes, slash commands and interaction payloads, signed
// exactly as Slack signs them, plus the response_url endpoints that record what the app answers there.
import { createHmac, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { blocksErrors, viewErrors } from './blocks.ts';
import { isObject } from './description.ts';
import type { Channel, SlackMessage, SlackStore, StoredView, User } from './store.ts';
import type { RejectedCall, TriggerRegistry } from './webapi.ts';

/**
 * What a person typed, as Slack sends it: `&`, `<` and `>` escaped as entities, except in the tokens Slack writes for
 * mentions, channels, special mentions and links (`<@U123|ada>`, `<#C123|general>`, `<!here>`, `<https://…|label>`),
 * which tests pass as they would arrive.
 */
export function slackEscape(text: string): string {
  const token = /<(?:[@#!][^<>]*|https?:[^<>]*|mailto:[^<>]*)>/g;
  const escapeText = (part: string) => part.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  let out = '';
  let last = 0;
  for (const match of text.matchAll(token)) {
    out += escapeText(text.slice(last, match.index)) + match[0];
    last = match.index + match[0].length;
  }
  return out + escapeText(text.slice(last));
}

export interface SendOptions {
  /** Forge the signature: left out, wrong, or correct but with a timestamp more than 5 minutes old. */
  signature?: 'missing' | 'bad' | 'stale';
  /** Send again exactly what an earlier delivery sent (same body, same signature and timestamp headers). */
  replayOf?: Delivery;
  /** How long to wait for the app's answer (default 3000 ms, Slack's limit; later counts as a timeout). */
  timeoutMs?: number;
}

export interface Delivery {
  kind: 'event' | 'url_verification' | 'command' | 'interaction';
  url: string;
  request: { headers: Record<string, string>; body: string };
  /** The app's HTTP status; 0 when it did not answer (connection refused, or no answer within the timeout). */
  status: number;
  headers: Record<string, string>;
  body: string;
  elapsedMs: number;
  timedOut: boolean;
  /** Why there is no answer (fetch's error), or null. */
  error: string | null;
  /** The body parsed as JSON (undefined when it is empty or not JSON). */
  json: unknown;
  /** What was sent, parsed: the event envelope or the interaction payload, or the slash command's fields. */
  sent: Record<string, unknown>;
  /** The event_id of an event delivery. */
  eventId?: string;
  /** The response_url and trigger_id handed to the app with a command or interaction. */
  responseUrl?: string;
  triggerId?: string;
  /** For view_submission: what Slack did with the app's answer. */
  viewOutcome?: 'closed' | 'errors' | 'updated' | 'pushed' | 'cleared' | 'invalid';
}

export interface ResponseUrlPost {
  /** What the app posted: text, blocks, response_type, replace_original, delete_original, thread_ts... */
  body: Record<string, unknown>;
  at: Date;
  status: number;
  error: string | null;
}

interface ResponseUrlRecord {
  id: string;
  teamId: string;
  channelId: string;
  userId: string;
  /** The message an interaction came from (replace_original / delete_original act on it). */
  messageTs?: string;
  createdAt: number;
  posts: ResponseUrlPost[];
}

export interface RequestUrls {
  events: string;
  interactivity: string;
  commands: string;
}

export interface DriverDeps {
  store: SlackStore;
  triggers: TriggerRegistry;
  rejected: RejectedCall[];
  baseUrl: () => string;
  viewPayload: (view: StoredView) => Record<string, unknown>;
}

const SLACK_TIMEOUT_MS = 3000;

/** Send options may also be given inside a send's input object; the explicit second argument wins. */
function sendOptions(input: SendOptions, options: SendOptions): SendOptions {
  return { signature: input.signature, replayOf: input.replayOf, timeoutMs: input.timeoutMs, ...options };
}
const RESPONSE_URL_TTL_MS = 30 * 60_000;
const RESPONSE_URL_MAX_USES = 5;

export class SlackDriver {
  requestUrls: RequestUrls | null = null;
  signingSecret: string;
  readonly deliveries: Delivery[] = [];
  /** Events the fake tried to send on its own (the app's own messages, uninstall) and what came of them. */
  readonly backgroundErrors: string[] = [];
  private readonly responseUrls = new Map<string, ResponseUrlRecord>();
  private readonly inFlight = new Set<Promise<unknown>>();

  private readonly deps: DriverDeps;

  constructor(deps: DriverDeps) {
    this.deps = deps;
    this.signingSecret = deps.store.app.signingSecret;
  }

  private get store() {
    return this.deps.store;
  }

  setRequestUrl(url: string, overrides: Partial<RequestUrls> = {}): void {
    this.requestUrls = { events: url, interactivity: url, commands: url, ...overrides };
  }

  private urlFor(kind: keyof RequestUrls): string {
    if (!this.requestUrls) throw new Error('Slack fake: call setRequestUrl(url) before sending to the app');
    return this.requestUrls[kind];
  }

  /** Slack's v0 signature: hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret. */
  sign(timestamp: number, body: string, secret = this.signingSecret): string {
    return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  }

  private async send(
    kind: Delivery['kind'],
    url: string,
    body: string,
    contentType: string,
    sent: Record<string, unknown>,
    options: SendOptions,
    extraHeaders: Record<string, string> = {},
  ): Promise<Delivery> {
    let headers: Record<string, string>;
    if (options.replayOf) {
      headers = { ...options.replayOf.request.headers };
      body = options.replayOf.request.body;
    } else {
      const now = Math.floor(Date.now() / 1000);
      const timestamp = options.signature === 'stale' ? now - 6 * 60 : now;
      headers = {
        'content-type': contentType,
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'x-slack-request-timestamp': String(timestamp),
        ...extraHeaders,
      };
      if (options.signature === 'bad') headers['x-slack-signature'] = this.sign(timestamp, body, 'not-the-secret');
      else if (options.signature !== 'missing') headers['x-slack-signature'] = this.sign(timestamp, body);
    }
    const started = performance.now();
    const delivery: Delivery = {
      kind,
      url,
      request: { headers, body },
      status: 0,
      headers: {},
      body: '',
      elapsedMs: 0,
      timedOut: false,
      error: null,
      json: undefined,
      sent,
    };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? SLACK_TIMEOUT_MS),
      });
      delivery.status = response.status;
      delivery.headers = Object.fromEntries(response.headers.entries());
      delivery.body = await response.text();
      try {
        delivery.json = delivery.body ? JSON.parse(delivery.body) : undefined;
      } catch {
        delivery.json = undefined;
      }
    } catch (error) {
      const e = error as Error;
      delivery.timedOut = e.name === 'TimeoutError';
      delivery.error = e.name === 'TimeoutError' ? 'no answer within the timeout' : String(e.cause ?? e.message);
    }
    delivery.elapsedMs = performance.now() - started;
    this.deliveries.push(delivery);
    return delivery;
  }

  // ---- Events API ---------------------------------------------------------------------------------------------

  private installed(teamId: string): boolean {
    const installation = this.store.installations.get(teamId);
    return installation !== undefined && !installation.botToken.revoked;
  }

  envelope(teamId: string, event: Record<string, unknown>, eventId: string): Record<string, unknown> {
    const { botUserId } = this.store.bot(teamId);
    const eventTime = Math.floor(Date.now() / 1000);
    const channelId = typeof event.channel === 'string' ? event.channel : undefined;
    const channel = channelId ? this.store.channels.get(channelId) : undefined;
    const context = Buffer.from(
      JSON.stringify({ et: event.type, tid: teamId, aid: this.store.app.appId, cid: channelId }),
    ).toString('base64url');
    return {
      token: this.store.app.verificationToken,
      team_id: teamId,
      context_team_id: teamId,
      context_enterprise_id: null,
      api_app_id: this.store.app.appId,
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: eventTime,
      authorizations: [
        { enterprise_id: null, team_id: teamId, user_id: botUserId, is_bot: true, is_enterprise_install: false },
      ],
      is_ext_shared_channel: channel?.isExtShared ?? false,
      event_context: `4-${context}`,
    };
  }

  /**
   * Sends an Events API `event_callback` for `event` (event_ts is filled in when missing). Pass the eventId of an
   * earlier delivery with retryNum/retryReason to model Slack's retry of the same event.
   */
  async sendEvent(
    event: Record<string, unknown>,
    options: SendOptions & { teamId?: string; eventId?: string; retryNum?: number; retryReason?: string } = {},
  ): Promise<Delivery> {
    const teamId = options.teamId ?? this.teamOfEvent(event);
    const eventId = options.eventId ?? `Ev${this.store.nextId('', 10).slice(1)}`;
    const full = { ...event, event_ts: event.event_ts ?? this.store.nextTs() };
    const envelope = this.envelope(teamId, full, eventId);
    const headers: Record<string, string> = {};
    if (options.retryNum !== undefined) {
      headers['x-slack-retry-num'] = String(options.retryNum);
      headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
    }
    const delivery = await this.send(
      'event',
      this.urlFor('events'),
      JSON.stringify(envelope),
      'application/json',
      envelope,
      options,
      headers,
    );
    delivery.eventId = eventId;
    return delivery;
  }

  private teamOfEvent(event: Record<string, unknown>): string {
    const channel = typeof event.channel === 'string' ? this.store.channels.get(event.channel) : undefined;
    if (channel) return channel.teamId;
    const user = typeof event.user === 'string' ? this.store.users.get(event.user) : undefined;
    if (user && this.store.teams.has(user.teamId)) return user.teamId;
    return 'T0ACME001';
  }

  /** The url_verification handshake Slack does when a Request URL is saved; the app must echo `challenge`. */
  async urlVerification(options: SendOptions = {}): Promise<Delivery & { challenge: string }> {
    const challenge = randomBytes(24).toString('base64url');
    const body = { token: this.store.app.verificationToken, challenge, type: 'url_verification' };
    const delivery = await this.send(
      'url_verification',
      this.urlFor('events'),
      JSON.stringify(body),
      'application/json',
      body,
      options,
    );
    return { ...delivery, challenge };
  }

  /** An event the fake sends on its own (echo of the app's own message, uninstall): not awaited by the caller. */
  emitBackground(teamId: string, event: Record<string, unknown>, force = false): void {
    if (!this.requestUrls || (!force && !this.installed(teamId))) return;
    const promise = this.sendEvent(event, { teamId })
      .then((d) => {
        if (d.status < 200 || d.status >= 300)
          this.backgroundErrors.push(`${event.type}: ${d.status || d.error} ${d.body.slice(0, 200)}`);
      })
      .catch((error) => this.backgroundErrors.push(`${event.type}: ${(error as Error).message}`))
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  /** Waits until every background event has been answered. */
  async settle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  // ---- Users acting in Slack --------------------------------------------------------------------------------

  private human(userId: string): User {
    const user = this.store.users.get(userId);
    if (!user || user.isBot) throw new Error(`Slack fake: no human user ${userId}`);
    return user;
  }

  /** A conversation the user can post in (they must be a member; a DM with the app is opened for them). */
  private conversationFor(user: User, channelIdOrName: string, teamId?: string): Channel {
    const team = teamId ?? (this.store.teams.has(user.teamId) ? user.teamId : 'T0ACME001');
    const channel = channelIdOrName.startsWith('D')
      ? this.store.channels.get(channelIdOrName)
      : this.store.channelIn(team, channelIdOrName);
    if (!channel) throw new Error(`Slack fake: no channel ${channelIdOrName} in ${team}`);
    if (!channel.members.has(user.id)) throw new Error(`Slack fake: ${user.id} is not a member of ${channel.id}`);
    return channel;
  }

  private messageEventBase(channel: Channel, user: User): Record<string, unknown> {
    const base: Record<string, unknown> = {
      type: 'message',
      channel: channel.id,
      user: user.id,
      channel_type: this.store.channelType(channel),
      team: user.teamId,
    };
    if (user.teamId !== channel.teamId) {
      base.user_team = user.teamId;
      base.source_team = user.teamId;
    }
    return base;
  }

  /** Whether Slack would tell the app about activity in this channel (app installed, bot in the conversation). */
  private appSees(channel: Channel): boolean {
    return this.installed(channel.teamId) && channel.members.has(this.store.bot(channel.teamId).botUserId);
  }

  /**
   * A user posts a message: it is stored (with a ts) and, when the app is installed and its bot is in the
   * conversation, the `message` event is sent (and `app_mention` when the text mentions the bot).
   */
  async postAsUser(
    userId: string,
    channelIdOrName: string,
    text: string,
    options: SendOptions & { threadTs?: string; teamId?: string; blocks?: unknown[]; replyBroadcast?: boolean } = {},
  ): Promise<{
    ts: string;
    channel: string;
    message: SlackMessage;
    delivery: Delivery | null;
    mention: Delivery | null;
  }> {
    const user = this.human(userId);
    let channel: Channel;
    if (channelIdOrName.startsWith('D') || channelIdOrName === 'app_home') {
      channel = this.store.openDm(options.teamId ?? user.teamId, user.id);
    } else {
      channel = this.conversationFor(user, channelIdOrName, options.teamId);
    }
    const ts = this.store.nextTs();
    const message: SlackMessage = {
      type: 'message',
      ts,
      text: slackEscape(text),
      user: user.id,
      team: user.teamId,
      client_msg_id: crypto.randomUUID(),
      blocks: options.blocks ?? [
        {
          type: 'rich_text',
          block_id: randomBytes(3).toString('base64url'),
          elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
        },
      ],
    };
    if (options.threadTs) {
      const parent = this.store.message(channel.id, options.threadTs);
      if (!parent) throw new Error(`Slack fake: no message ${options.threadTs} in ${channel.id} to reply to`);
      message.thread_ts = parent.thread_ts ?? parent.ts;
      if (options.replyBroadcast) message.subtype = 'thread_broadcast';
    }
    this.store.addMessage(channel.id, message);
    const event: Record<string, unknown> = {
      ...this.messageEventBase(channel, user),
      ...structuredClone(message),
      event_ts: ts,
    };
    if (message.parent_user_id) event.parent_user_id = message.parent_user_id;
    if (!this.appSees(channel) || !this.requestUrls)
      return { ts, channel: channel.id, message, delivery: null, mention: null };
    const delivery = await this.sendEvent(event, { ...options, teamId: channel.teamId });
    let mention: Delivery | null = null;
    const { botUserId } = this.store.bot(channel.teamId);
    if (text.includes(`<@${botUserId}>`) && !channel.isIm) {
      const { channel_type: _type, client_msg_id: _id, ...mentionEvent } = event;
      mention = await this.sendEvent({ ...mentionEvent, type: 'app_mention' }, { teamId: channel.teamId });
    }
    return { ts, channel: channel.id, message, delivery, mention };
  }

  /** A user edits their message: the store changes and a `message_changed` event is sent. */
  async editAsUser(
    userId: string,
    channelId: string,
    ts: string,
    text: string,
    options: SendOptions = {},
  ): Promise<{ message: SlackMessage; delivery: Delivery | null }> {
    const user = this.human(userId);
    const channel = this.store.channel(channelId);
    const message = this.store.message(channelId, ts);
    if (!message || message.user !== user.id)
      throw new Error(`Slack fake: ${userId} has no message ${ts} in ${channelId}`);
    const previous = structuredClone(message);
    message.text = slackEscape(text);
    message.blocks = [
      {
        type: 'rich_text',
        block_id: randomBytes(3).toString('base64url'),
        elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text }] }],
      },
    ];
    const eventTs = this.store.nextTs();
    message.edited = { user: user.id, ts: eventTs };
    if (!this.appSees(channel) || !this.requestUrls) return { message, delivery: null };
    const delivery = await this.sendEvent(
      {
        type: 'message',
        subtype: 'message_changed',
        hidden: true,
        channel: channel.id,
        channel_type: this.store.channelType(channel),
        message: structuredClone(message),
        previous_message: previous,
        ts: eventTs,
        event_ts: eventTs,
      },
      { ...options, teamId: channel.teamId },
    );
    return { message, delivery };
  }

  /** A user deletes their message: it leaves the store and a `message_deleted` event is sent. */
  async deleteAsUser(
    userId: string,
    channelId: string,
    ts: string,
    options: SendOptions = {},
  ): Promise<{ delivery: Delivery | null }> {
    const user = this.human(userId);
    const channel = this.store.channel(channelId);
    const message = this.store.message(channelId, ts);
    if (!message || message.user !== user.id)
      throw new Error(`Slack fake: ${userId} has no message ${ts} in ${channelId}`);
    const previous = structuredClone(message);
    this.store.removeMessage(channelId, ts);
    if (!this.appSees(channel) || !this.requestUrls) return { delivery: null };
    const eventTs = this.store.nextTs();
    const delivery = await this.sendEvent(
      {
        type: 'message',
        subtype: 'message_deleted',
        hidden: true,
        channel: channel.id,
        channel_type: this.store.channelType(channel),
        deleted_ts: ts,
        previous_message: previous,
        ts: eventTs,
        event_ts: eventTs,
      },
      { ...options, teamId: channel.teamId },
    );
    return { delivery };
  }

  // ---- Slash commands and interactivity ---------------------------------------------------------------------

  private newResponseUrl(teamId: string, channelId: string, userId: string, messageTs?: string): string {
    const id = `${teamId}/${Date.now()}${Math.floor(Math.random() * 1000)}/${randomBytes(12).toString('hex')}`;
    this.responseUrls.set(id, { id, teamId, channelId, userId, messageTs, createdAt: Date.now(), posts: [] });
    return `${this.deps.baseUrl()}/response/${id}`;
  }

  private teamOfUser(user: User, teamId?: string): string {
    return teamId ?? (this.store.teams.has(user.teamId) ? user.teamId : 'T0ACME001');
  }

  private channelName(channel: Channel): string {
    if (channel.isIm) return 'directmessage';
    if (channel.isMpim || channel.isPrivate) return 'privategroup';
    return channel.name;
  }

  /** A user runs a slash command: the form-encoded POST Slack sends, with a response_url and trigger_id. */
  async slashCommand(
    input: { command: string; text?: string; userId: string; channelId: string; teamId?: string } & SendOptions,
    explicit: SendOptions = {},
  ): Promise<Delivery> {
    const options = sendOptions(input, explicit);
    const user = this.human(input.userId);
    const teamId = this.teamOfUser(user, input.teamId);
    const team = this.store.team(teamId);
    const channel = input.channelId.startsWith('D')
      ? this.store.openDm(teamId, user.id)
      : this.store.channelIn(teamId, input.channelId);
    if (!channel) throw new Error(`Slack fake: no channel ${input.channelId}`);
    if (!input.command.startsWith('/')) throw new Error('Slack fake: a command starts with /');
    const responseUrl = this.newResponseUrl(teamId, channel.id, user.id);
    const triggerId = this.deps.triggers.issue(teamId, user.id);
    const fields: Record<string, string> = {
      token: this.store.app.verificationToken,
      team_id: teamId,
      team_domain: team.domain,
      channel_id: channel.id,
      channel_name: this.channelName(channel),
      user_id: user.id,
      user_name: user.name,
      command: input.command,
      text: slackEscape(input.text ?? ''),
      api_app_id: this.store.app.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    };
    const delivery = await this.send(
      'command',
      this.urlFor('commands'),
      new URLSearchParams(fields).toString(),
      'application/x-www-form-urlencoded',
      fields,
      options,
    );
    return { ...delivery, responseUrl, triggerId };
  }

  private payloadUser(user: User) {
    return { id: user.id, username: user.name, name: user.name, team_id: user.teamId };
  }

  private async sendInteraction(payload: Record<string, unknown>, options: SendOptions): Promise<Delivery> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.send(
      'interaction',
      this.urlFor('interactivity'),
      body,
      'application/x-www-form-urlencoded',
      payload,
      options,
    );
  }

  /** Finds an interactive element by action_id in a message's or view's blocks. */
  private findElement(
    blocks: unknown[],
    actionId: string,
  ): { element: Record<string, unknown>; blockId: string } | null {
    for (const block of blocks) {
      if (!isObject(block)) continue;
      const candidates = [block.accessory, block.element, ...(Array.isArray(block.elements) ? block.elements : [])];
      for (const element of candidates)
        if (isObject(element) && element.action_id === actionId)
          return { element, blockId: String(block.block_id ?? '') };
    }
    return null;
  }

  private actionFor(
    found: { element: Record<string, unknown>; blockId: string },
    input: {
      actionId: string;
      value?: string;
      selectedOption?: string | { text?: string; value: string };
      blockId?: string;
    },
  ): Record<string, unknown> {
    const { element } = found;
    const action: Record<string, unknown> = {
      action_id: input.actionId,
      block_id: input.blockId ?? found.blockId,
      type: element.type,
      action_ts: this.store.nextTs(),
    };
    if (element.type === 'button') {
      action.text = element.text;
      if (input.value !== undefined || element.value !== undefined) action.value = input.value ?? element.value;
      if (element.style) action.style = element.style;
    } else if (input.selectedOption !== undefined) {
      const wanted = typeof input.selectedOption === 'string' ? input.selectedOption : input.selectedOption.value;
      const options = (Array.isArray(element.options) ? element.options : []) as Array<Record<string, unknown>>;
      const option = options.find((o) => o.value === wanted);
      if (!option && options.length > 0)
        throw new Error(`Slack fake: ${input.actionId} has no option with value ${wanted}`);
      action.selected_option = option ?? {
        text: {
          type: 'plain_text',
          text: typeof input.selectedOption === 'string' ? wanted : (input.selectedOption.text ?? wanted),
          emoji: true,
        },
        value: wanted,
      };
      if (element.placeholder) action.placeholder = element.placeholder;
    } else if (input.value !== undefined) {
      action.value = input.value;
    }
    return action;
  }

  /**
   * A user clicks a button (or picks an option) in a message the store holds. The element is looked up by
   * action_id in the message's blocks, as Slack builds the payload from what the user saw.
   */
  async blockAction(
    input: {
      userId: string;
      channelId: string;
      messageTs: string;
      actionId: string;
      value?: string;
      selectedOption?: string | { text?: string; value: string };
      blockId?: string;
      teamId?: string;
    } & SendOptions,
    explicit: SendOptions = {},
  ): Promise<Delivery> {
    const options = sendOptions(input, explicit);
    const user = this.human(input.userId);
    const teamId = this.teamOfUser(user, input.teamId);
    const channel = this.store.channel(input.channelId);
    const message = this.store.message(channel.id, input.messageTs);
    if (!message) throw new Error(`Slack fake: no message ${input.messageTs} in ${channel.id} to click in`);
    const found = this.findElement(message.blocks ?? [], input.actionId);
    if (!found)
      throw new Error(`Slack fake: message ${input.messageTs} has no element with action_id ${input.actionId}`);
    const responseUrl = this.newResponseUrl(teamId, channel.id, user.id, message.ts);
    const triggerId = this.deps.triggers.issue(teamId, user.id);
    const team = this.store.team(teamId);
    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: this.payloadUser(user),
      api_app_id: this.store.app.appId,
      token: this.store.app.verificationToken,
      container: { type: 'message', message_ts: message.ts, channel_id: channel.id, is_ephemeral: false },
      trigger_id: triggerId,
      team: { id: team.id, domain: team.domain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: channel.id, name: this.channelName(channel) },
      message: structuredClone(message),
      state: { values: {} },
      response_url: responseUrl,
      actions: [this.actionFor(found, input)],
    };
    const delivery = await this.sendInteraction(payload, options);
    return { ...delivery, responseUrl, triggerId };
  }

  /** A user clicks a button or picks an option inside a view (modal or App Home) the app opened. */
  async viewBlockAction(
    input: {
      userId: string;
      viewId: string;
      actionId: string;
      value?: string;
      selectedOption?: string | { text?: string; value: string };
      blockId?: string;
    } & SendOptions,
    explicit: SendOptions = {},
  ): Promise<Delivery> {
    const options = sendOptions(input, explicit);
    const user = this.human(input.userId);
    const stored = this.store.views.get(input.viewId);
    if (!stored) throw new Error(`Slack fake: no view ${input.viewId}`);
    const found = this.findElement((stored.view.blocks as unknown[]) ?? [], input.actionId);
    if (!found) throw new Error(`Slack fake: view ${input.viewId} has no element with action_id ${input.actionId}`);
    const triggerId = this.deps.triggers.issue(stored.teamId, user.id);
    const team = this.store.team(stored.teamId);
    const payload: Record<string, unknown> = {
      type: 'block_actions',
      user: this.payloadUser(user),
      api_app_id: this.store.app.appId,
      token: this.store.app.verificationToken,
      container: { type: 'view', view_id: stored.id },
      trigger_id: triggerId,
      team: { id: team.id, domain: team.domain },
      enterprise: null,
      is_enterprise_install: false,
      view: this.deps.viewPayload(stored),
      actions: [this.actionFor(found, input)],
    };
    const delivery = await this.sendInteraction(payload, options);
    return { ...delivery, triggerId };
  }

  /** A user runs a message shortcut on a stored message (`type: 'message_action'`). */
  async messageShortcut(
    input: { callbackId: string; userId: string; channelId: string; messageTs: string; teamId?: string } & SendOptions,
    explicit: SendOptions = {},
  ): Promise<Delivery> {
    const options = sendOptions(input, explicit);
    const user = this.human(input.userId);
    const teamId = this.teamOfUser(user, input.teamId);
    const channel = this.store.channel(input.channelId);
    const message = this.store.message(channel.id, input.messageTs);
    if (!message) throw new Error(`Slack fake: no message ${input.messageTs} in ${channel.id}`);
    const responseUrl = this.newResponseUrl(teamId, channel.id, user.id);
    const triggerId = this.deps.triggers.issue(teamId, user.id);
    const team = this.store.team(teamId);
    const payload = {
      type: 'message_action',
      token: this.store.app.verificationToken,
      action_ts: this.store.nextTs(),
      team: { id: team.id, domain: team.domain },
      user: this.payloadUser(user),
      channel: { id: channel.id, name: this.channelName(channel) },
      is_enterprise_install: false,
      enterprise: null,
      callback_id: input.callbackId,
      trigger_id: triggerId,
      response_url: responseUrl,
      message_ts: message.ts,
      message: structuredClone(message),
    };
    const delivery = await this.sendInteraction(payload, options);
    return { ...delivery, responseUrl, triggerId };
  }

  /** A user runs a global shortcut (`type: 'shortcut'`). */
  async globalShortcut(
    input: { callbackId: string; userId: string; teamId?: string } & SendOptions,
    explicit: SendOptions = {},
  ): Promise<Delivery> {
    const options = sendOptions(input, explicit);
    const user = this.human(input.userId);
    const teamId = this.teamOfUser(user, input.teamId);
    const triggerId = this.deps.triggers.issue(teamId, user.id);
    const team = this.store.team(teamId);
    const payload = {
      type: 'shortcut',
      token: this.store.app.verificationToken,
      action_ts: this.store.nextTs(),
      team: { id: team.id, domain: team.domain },
      user: { id: user.id, username: user.name, team_id: user.teamId },
      is_enterprise_install: false,
      enterprise: null,
      callback_id: input.callbackId,
      trigger_id: triggerId,
    };
    const delivery = await this.sendInteraction(payload, options);
    return { ...delivery, triggerId };
  }

  /**
   * A user submits a modal. With `viewId`, the view the app opened (views.open) is submitted; otherwise `view`
   * describes it. `values` (or `view.state.values`) are what the user entered, keyed block_id → action_id.
   * Slack then acts on the app's answer: none closes the modal, `response_action` errors/update/push/clear.
   */
  async viewSubmission(
    input: {
      userId: string;
      viewId?: string;
      view?: { callback_id?: string; private_metadata?: string; state?: { values: Record<string, unknown> } } & Record<
        string,
        unknown
      >;
      values?: Record<string, Record<string, unknown>>;
      teamId?: string;
    } & SendOptions,
    explicit: SendOptions = {},
  ): Promise<Delivery> {
    const options = sendOptions(input, explicit);
    const user = this.human(input.userId);
    const teamId = this.teamOfUser(user, input.teamId);
    const team = this.store.team(teamId);
    let stored = input.viewId ? this.store.views.get(input.viewId) : undefined;
    if (input.viewId && !stored) throw new Error(`Slack fake: no view ${input.viewId}`);
    if (!stored) {
      const { state: _state, ...view } = input.view ?? {};
      const id = this.store.nextId('V', 11);
      stored = {
        id,
        teamId,
        userId: user.id,
        type: 'modal',
        view: { type: 'modal', title: { type: 'plain_text', text: 'Form' }, blocks: [], ...view },
        hash: `${Math.floor(Date.now() / 1000)}.fake`,
        rootViewId: id,
        previousViewId: null,
        stateValues: {},
        closed: false,
      };
      this.store.views.set(id, stored);
    }
    stored.stateValues = (input.values ?? input.view?.state?.values ?? stored.stateValues) as StoredView['stateValues'];
    const triggerId = this.deps.triggers.issue(teamId, user.id);
    const payload = {
      type: 'view_submission',
      team: { id: team.id, domain: team.domain },
      user: this.payloadUser(user),
      api_app_id: this.store.app.appId,
      token: this.store.app.verificationToken,
      trigger_id: triggerId,
      view: this.deps.viewPayload(stored),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    };
    const delivery = await this.sendInteraction(payload, options);
    delivery.triggerId = triggerId;
    if (delivery.status === 200) delivery.viewOutcome = this.applyViewAnswer(stored, delivery);
    return delivery;
  }

  private applyViewAnswer(stored: StoredView, delivery: Delivery): Delivery['viewOutcome'] {
    if (delivery.body.trim() === '') {
      stored.closed = true;
      return 'closed';
    }
    const answer = delivery.json;
    if (!isObject(answer) || answer.response_action === undefined) {
      // Bolt's ack() with no argument answers an empty body; anything else without response_action is not valid.
      stored.closed = true;
      return isObject(answer) && Object.keys(answer).length === 0 ? 'closed' : 'invalid';
    }
    switch (answer.response_action) {
      case 'errors':
        return isObject(answer.errors) ? 'errors' : 'invalid';
      case 'update':
      case 'push': {
        const view = answer.view;
        if (!isObject(view) || viewErrors(view, ['modal']).length > 0) return 'invalid';
        if (answer.response_action === 'update') {
          stored.view = view;
          return 'updated';
        }
        const id = this.store.nextId('V', 11);
        this.store.views.set(id, {
          ...stored,
          id,
          view,
          previousViewId: stored.id,
          stateValues: {},
          closed: false,
        });
        return 'pushed';
      }
      case 'clear':
        for (const v of this.store.views.values()) if (v.rootViewId === stored.rootViewId) v.closed = true;
        return 'cleared';
      default:
        return 'invalid';
    }
  }

  // ---- response_url -----------------------------------------------------------------------------------------

  /** What the app posted to a response_url (the id is the URL's path after /response/, or the full URL). */
  responses(idOrUrl: string): ResponseUrlPost[] {
    const id = idOrUrl.includes('/response/') ? (idOrUrl.split('/response/')[1] ?? '') : idOrUrl;
    return this.responseUrls.get(id)?.posts ?? [];
  }

  lastResponse(): ResponseUrlPost | undefined {
    const all = [...this.responseUrls.values()].flatMap((r) => r.posts);
    all.sort((a, b) => a.at.getTime() - b.at.getTime());
    return all[all.length - 1];
  }

  async handleResponseUrl(req: IncomingMessage, res: ServerResponse, id: string, rawBody: string): Promise<void> {
    const answer = (status: number, body: Record<string, unknown>): void => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
    };
    const record = this.responseUrls.get(id);
    if (!record) return answer(404, { ok: false, error: 'no_such_url' });
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(rawBody);
      if (!isObject(parsed)) throw new Error('not an object');
      body = parsed;
    } catch {
      record.posts.push({ body: { raw: rawBody }, at: new Date(), status: 400, error: 'invalid_payload' });
      this.deps.rejected.push({
        method: 'response_url',
        args: { raw: rawBody },
        reasons: [`response_url body is not a JSON object (content-type ${req.headers['content-type']})`],
        at: new Date(),
      });
      return answer(400, { ok: false, error: 'invalid_payload' });
    }
    const fail = (status: number, error: string, reason?: string) => {
      record.posts.push({ body, at: new Date(), status, error });
      if (reason) this.deps.rejected.push({ method: 'response_url', args: body, reasons: [reason], at: new Date() });
      return answer(status, { ok: false, error });
    };
    if (Date.now() - record.createdAt > RESPONSE_URL_TTL_MS) return fail(404, 'expired_url');
    if (record.posts.filter((p) => p.status === 200).length >= RESPONSE_URL_MAX_USES) return fail(404, 'used_url');
    if (body.response_type !== undefined && body.response_type !== 'ephemeral' && body.response_type !== 'in_channel')
      return fail(400, 'invalid_response_type', `response_type must be ephemeral or in_channel`);
    if (body.blocks !== undefined) {
      const errors = Array.isArray(body.blocks) ? blocksErrors(body.blocks, 50, false) : ['blocks must be an array'];
      if (errors.length > 0) return fail(400, 'invalid_blocks', errors.join('; '));
    }
    const hasContent = typeof body.text === 'string' || Array.isArray(body.blocks) || Array.isArray(body.attachments);
    if (body.delete_original !== true && !hasContent)
      return fail(400, 'no_text', 'a response_url post needs text or blocks');
    this.applyResponse(record, body);
    record.posts.push({ body, at: new Date(), status: 200, error: null });
    return answer(200, { ok: true });
  }

  private applyResponse(record: ResponseUrlRecord, body: Record<string, unknown>) {
    const original = record.messageTs ? this.store.message(record.channelId, record.messageTs) : undefined;
    if (body.delete_original === true || body.delete_original === 'true') {
      if (original) this.store.removeMessage(record.channelId, original.ts);
      return;
    }
    if ((body.replace_original === true || body.replace_original === 'true') && original) {
      if (typeof body.text === 'string') original.text = body.text;
      if (Array.isArray(body.blocks)) original.blocks = body.blocks;
      original.edited = { user: original.user ?? '', ts: this.store.nextTs() };
      return;
    }
    if (body.response_type === 'in_channel') {
      const { botUserId, botId } = this.store.bot(record.teamId);
      const message: SlackMessage = {
        type: 'message',
        ts: this.store.nextTs(),
        text: typeof body.text === 'string' ? body.text : '',
        user: botUserId,
        bot_id: botId,
        app_id: this.store.app.appId,
        team: record.teamId,
      };
      if (Array.isArray(body.blocks)) message.blocks = body.blocks;
      if (typeof body.thread_ts === 'string') message.thread_ts = body.thread_ts;
      this.store.addMessage(record.channelId, message);
      return;
    }
    this.store.ephemerals.push({
      channel: record.channelId,
      user: record.userId,
      ts: this.store.nextTs(),
      text: typeof body.text === 'string' ? body.text : undefined,
      blocks: Array.isArray(body.blocks) ? body.blocks : undefined,
      thread_ts: typeof body.thread_ts === 'string' ? body.thread_ts : undefined,
      via: 'response_url',
    });
  }
}
