// The fake's workspaces: teams, users, conversations, messages (with threads), ephemerals, views, response_url
// posts, and the app's installations and tokens. Tests read it to assert what the integration did in "Slack".
import { randomBytes } from 'node:crypto';

export interface Team {
  id: string;
  name: string;
  domain: string;
  emailDomain: string;
  /** false after deactivateTeam(): every token of the team answers account_inactive. */
  active: boolean;
}

export interface User {
  id: string;
  teamId: string;
  name: string;
  realName: string;
  email: string | null;
  isAdmin: boolean;
  isBot: boolean;
  botId?: string;
  /** A Slack Connect user from another organisation, visible through a shared channel. */
  isExternal: boolean;
  deleted: boolean;
  tz: string;
}

export interface Channel {
  id: string;
  teamId: string;
  name: string;
  isPrivate: boolean;
  isIm: boolean;
  isMpim: boolean;
  isArchived: boolean;
  isGeneral: boolean;
  /** Shared with another organisation (Slack Connect). */
  isExtShared: boolean;
  created: number;
  creator: string;
  members: Set<string>;
  /** For a DM: the human on the other side. */
  imUser?: string;
  topic: string;
  purpose: string;
}

/** A message as Slack returns it (conversations.history, chat.postMessage's `message`, events). */
export interface SlackMessage {
  type: 'message';
  ts: string;
  text: string;
  team?: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  subtype?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  thread_ts?: string;
  parent_user_id?: string;
  reply_count?: number;
  reply_users?: string[];
  reply_users_count?: number;
  latest_reply?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  edited?: { user: string; ts: string };
  username?: string;
  icons?: Record<string, string>;
  bot_profile?: {
    id: string;
    app_id: string;
    name: string;
    icons: Record<string, string>;
    deleted: boolean;
    updated: number;
    team_id: string;
  };
  client_msg_id?: string;
}

export interface EphemeralMessage {
  channel: string;
  user: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  /** How it was sent: chat.postEphemeral, or a response_url answer. */
  via: 'chat.postEphemeral' | 'response_url';
}

export interface StoredView {
  id: string;
  teamId: string;
  userId: string;
  type: 'modal' | 'home';
  view: Record<string, unknown>;
  hash: string;
  externalId?: string;
  rootViewId: string;
  previousViewId: string | null;
  /** Values entered by the user, keyed block_id → action_id → value (viewSubmission fills them). */
  stateValues: Record<string, Record<string, unknown>>;
  closed: boolean;
}

export interface TokenRecord {
  token: string;
  kind: 'bot' | 'user';
  teamId: string;
  /** The bot user for bot tokens, the authorizing user for user tokens. */
  userId: string;
  scopes: string[];
  revoked: boolean;
}

export interface Installation {
  teamId: string;
  botToken: TokenRecord;
  userTokens: Map<string, TokenRecord>;
  installedBy: string;
  installedAt: number;
}

export interface AppIdentity {
  appId: string;
  name: string;
  clientId: string;
  clientSecret: string;
  signingSecret: string;
  /** The deprecated verification token Slack still puts in payloads (`token`). */
  verificationToken: string;
}

export interface TeamSeed {
  id: string;
  name: string;
  domain: string;
  emailDomain?: string;
  users?: Array<{ id: string; name: string; realName: string; email: string; isAdmin?: boolean }>;
  channels?: Array<{ id: string; name: string; isPrivate?: boolean; members?: string[]; isGeneral?: boolean }>;
  /** The app's bot user and bot ids in this team (default: derived from the team id). */
  botUserId?: string;
  botId?: string;
}

export const ACME: TeamSeed = {
  id: 'T0ACME001',
  name: 'Acme Support',
  domain: 'acme-support',
  emailDomain: 'acme.test',
  botUserId: 'U0BOTACME1',
  botId: 'B0BOTACME1',
  users: [
    { id: 'U0ADA00001', name: 'ada', realName: 'Ada Lovelace', email: 'ada@acme.test', isAdmin: true },
    { id: 'U0GRACE001', name: 'grace', realName: 'Grace Hopper', email: 'grace@acme.test' },
    { id: 'U0LINUS001', name: 'linus', realName: 'Linus Torvalds', email: 'linus@acme.test' },
  ],
  channels: [
    { id: 'C0GENERAL1', name: 'general', isGeneral: true },
    { id: 'C0SUPPORT1', name: 'support' },
    { id: 'C0URGENT01', name: 'urgent', members: ['U0ADA00001', 'U0GRACE001'] },
    { id: 'C0BILLING1', name: 'billing', members: ['U0ADA00001', 'U0LINUS001'] },
    { id: 'C0ESCALAT1', name: 'escalations', isPrivate: true, members: ['U0ADA00001', 'U0GRACE001'] },
  ],
};

export const GLOBEX: TeamSeed = {
  id: 'T0GLOBEX01',
  name: 'Globex',
  domain: 'globex',
  emailDomain: 'globex.test',
  botUserId: 'U0BOTGLBX1',
  botId: 'B0BOTGLBX1',
  users: [
    { id: 'U0HANK0001', name: 'hank', realName: 'Hank Scorpio', email: 'hank@globex.test', isAdmin: true },
    { id: 'U0HOMER001', name: 'homer', realName: 'Homer Simpson', email: 'homer@globex.test' },
  ],
  channels: [
    { id: 'C0GXGENRL1', name: 'general', isGeneral: true },
    { id: 'C0GXHELP01', name: 'help-desk' },
  ],
};

/** The external customer's organisation (Slack Connect) and the channel Acme shares with it. */
export const CUSTOMER_TEAM_ID = 'T0CUSTOMR1';
export const CAROL = { id: 'U0CAROL001', name: 'carol', realName: 'Carol Customer', email: 'carol@customer.test' };
export const SHARED_CHANNEL = { id: 'C0EXTCUST1', name: 'ext-customer' };
export const ARCHIVED_CHANNEL = { id: 'C0OLDNEWS1', name: 'old-news' };

export class SlackStore {
  readonly teams = new Map<string, Team>();
  readonly users = new Map<string, User>();
  readonly channels = new Map<string, Channel>();
  /** Every message per channel id, thread replies included, in ts order. */
  readonly messages = new Map<string, SlackMessage[]>();
  readonly ephemerals: EphemeralMessage[] = [];
  readonly views = new Map<string, StoredView>();
  /** The published App Home view per `teamId:userId`. */
  readonly homeViews = new Map<string, StoredView>();
  readonly tokens = new Map<string, TokenRecord>();
  readonly installations = new Map<string, Installation>();
  /** Bot user and bot id per team (the app's identity in that workspace). */
  readonly bots = new Map<string, { botUserId: string; botId: string }>();
  private lastMicros = 0;
  private counter = 0;

  readonly app: AppIdentity;

  constructor(app: AppIdentity) {
    this.app = app;
  }

  /** A message ts: unique, increasing, in Slack's `seconds.micros` form. */
  nextTs(): string {
    this.lastMicros = Math.max(Date.now() * 1000, this.lastMicros + 1);
    const seconds = Math.floor(this.lastMicros / 1_000_000);
    return `${seconds}.${String(this.lastMicros % 1_000_000).padStart(6, '0')}`;
  }

  /** An id in Slack's style: prefix, then uppercase letters and digits. */
  nextId(prefix: string, length = 10): string {
    this.counter += 1;
    const tail = `${this.counter.toString(36)}${randomBytes(8).toString('hex')}`.toUpperCase();
    return `${prefix}0${tail}`.slice(0, length);
  }

  addTeam(seed: TeamSeed): Team {
    if (this.teams.has(seed.id)) throw new Error(`team ${seed.id} already exists in the Slack fake`);
    const team: Team = {
      id: seed.id,
      name: seed.name,
      domain: seed.domain,
      emailDomain: seed.emailDomain ?? `${seed.domain}.test`,
      active: true,
    };
    this.teams.set(team.id, team);
    const botUserId = seed.botUserId ?? `U0BOT${seed.id.slice(2, 7)}`;
    const botId = seed.botId ?? `B0BOT${seed.id.slice(2, 7)}`;
    this.bots.set(team.id, { botUserId, botId });
    this.users.set(botUserId, {
      id: botUserId,
      teamId: team.id,
      name: this.app.name.toLowerCase(),
      realName: this.app.name,
      email: null,
      isAdmin: false,
      isBot: true,
      botId,
      isExternal: false,
      deleted: false,
      tz: 'America/Los_Angeles',
    });
    for (const u of seed.users ?? []) this.addUser(team.id, u);
    const humans = (seed.users ?? []).map((u) => u.id);
    for (const c of seed.channels ?? []) {
      this.addChannel(team.id, {
        id: c.id,
        name: c.name,
        isPrivate: c.isPrivate,
        isGeneral: c.isGeneral,
        members: c.members ?? humans,
      });
    }
    return team;
  }

  addUser(
    teamId: string,
    input: { id?: string; name: string; realName?: string; email: string; isAdmin?: boolean; isExternal?: boolean },
  ): User {
    const user: User = {
      id: input.id ?? this.nextId('U'),
      teamId,
      name: input.name,
      realName: input.realName ?? input.name,
      email: input.email,
      isAdmin: input.isAdmin ?? false,
      isBot: false,
      isExternal: input.isExternal ?? false,
      deleted: false,
      tz: 'Europe/London',
    };
    this.users.set(user.id, user);
    return user;
  }

  addChannel(
    teamId: string,
    input: {
      id?: string;
      name: string;
      isPrivate?: boolean;
      isGeneral?: boolean;
      isExtShared?: boolean;
      isArchived?: boolean;
      members?: string[];
    },
  ): Channel {
    const creator = [...this.users.values()].find((u) => u.teamId === teamId && u.isAdmin)?.id ?? 'U0UNKNOWN1';
    const channel: Channel = {
      id: input.id ?? this.nextId('C'),
      teamId,
      name: input.name,
      isPrivate: input.isPrivate ?? false,
      isIm: false,
      isMpim: false,
      isArchived: input.isArchived ?? false,
      isGeneral: input.isGeneral ?? false,
      isExtShared: input.isExtShared ?? false,
      created: Math.floor(Date.now() / 1000) - 86_400 * 30,
      creator,
      members: new Set(input.members ?? []),
      topic: '',
      purpose: '',
    };
    this.channels.set(channel.id, channel);
    this.messages.set(channel.id, []);
    return channel;
  }

  team(teamId: string): Team {
    const team = this.teams.get(teamId);
    if (!team) throw new Error(`no team ${teamId} in the Slack fake`);
    return team;
  }

  bot(teamId: string): { botUserId: string; botId: string } {
    const bot = this.bots.get(teamId);
    if (!bot) throw new Error(`no team ${teamId} in the Slack fake`);
    return bot;
  }

  /** A user as seen from a team: its own members, and external users who share a channel with it. */
  visibleUser(teamId: string, userId: string): User | undefined {
    const user = this.users.get(userId);
    if (!user) return undefined;
    if (user.teamId === teamId) return user;
    const shares = [...this.channels.values()].some(
      (c) => c.teamId === teamId && c.isExtShared && c.members.has(userId),
    );
    return shares ? user : undefined;
  }

  userByEmail(teamId: string, email: string): User | undefined {
    const wanted = email.toLowerCase();
    return [...this.users.values()].find(
      (u) => u.email?.toLowerCase() === wanted && this.visibleUser(teamId, u.id) !== undefined,
    );
  }

  /** A conversation of the team by id, or a public/private channel by name (`support` or `#support`). */
  channelIn(teamId: string, idOrName: string): Channel | undefined {
    const byId = this.channels.get(idOrName);
    if (byId) return byId.teamId === teamId ? byId : undefined;
    const name = idOrName.replace(/^#/, '');
    return [...this.channels.values()].find((c) => c.teamId === teamId && !c.isIm && !c.isMpim && c.name === name);
  }

  channel(id: string): Channel {
    const channel = this.channels.get(id);
    if (!channel) throw new Error(`no channel ${id} in the Slack fake`);
    return channel;
  }

  /** The DM between the app's bot and a user, created on first use (id `D` + the user id's tail). */
  openDm(teamId: string, userId: string): Channel {
    const id = `D${userId.slice(1)}`;
    const existing = this.channels.get(id);
    if (existing) return existing;
    const { botUserId } = this.bot(teamId);
    const channel: Channel = {
      id,
      teamId,
      name: id,
      isPrivate: true,
      isIm: true,
      isMpim: false,
      isArchived: false,
      isGeneral: false,
      isExtShared: false,
      created: Math.floor(Date.now() / 1000),
      creator: botUserId,
      members: new Set([botUserId, userId]),
      imUser: userId,
      topic: '',
      purpose: '',
    };
    this.channels.set(id, channel);
    this.messages.set(id, []);
    return channel;
  }

  openMpim(teamId: string, userIds: string[]): Channel {
    const { botUserId } = this.bot(teamId);
    const members = new Set([botUserId, ...userIds]);
    const existing = [...this.channels.values()].find(
      (c) =>
        c.isMpim &&
        c.teamId === teamId &&
        c.members.size === members.size &&
        [...members].every((m) => c.members.has(m)),
    );
    if (existing) return existing;
    const names = userIds.map((u) => this.users.get(u)?.name ?? u);
    const channel = this.addChannel(teamId, {
      id: this.nextId('G'),
      name: `mpdm-${names.join('--')}-1`,
      isPrivate: true,
      members: [...members],
    });
    channel.isMpim = true;
    return channel;
  }

  channelType(channel: Channel): 'channel' | 'group' | 'im' | 'mpim' {
    if (channel.isIm) return 'im';
    if (channel.isMpim) return 'mpim';
    return channel.isPrivate ? 'group' : 'channel';
  }

  messagesIn(channelId: string): SlackMessage[] {
    let list = this.messages.get(channelId);
    if (!list) {
      list = [];
      this.messages.set(channelId, list);
    }
    return list;
  }

  message(channelId: string, ts: string): SlackMessage | undefined {
    return this.messagesIn(channelId).find((m) => m.ts === ts);
  }

  /** Top-level messages of a channel, newest first, as conversations.history lists them (broadcast replies too). */
  history(channelId: string): SlackMessage[] {
    return this.messagesIn(channelId)
      .filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts || m.subtype === 'thread_broadcast')
      .slice()
      .reverse();
  }

  /** A thread: the parent, then its replies oldest first. */
  thread(channelId: string, threadTs: string): SlackMessage[] {
    const parent = this.message(channelId, threadTs);
    if (!parent) return [];
    const replies = this.messagesIn(channelId).filter((m) => m.thread_ts === threadTs && m.ts !== threadTs);
    return [parent, ...replies];
  }

  /** Stores a message (ts order) and keeps its thread's parent counters as Slack does. */
  addMessage(channelId: string, message: SlackMessage): SlackMessage {
    const list = this.messagesIn(channelId);
    list.push(message);
    list.sort((a, b) => compareTs(a.ts, b.ts));
    if (message.thread_ts && message.thread_ts !== message.ts) {
      const parent = this.message(channelId, message.thread_ts);
      if (parent) {
        parent.thread_ts = parent.ts;
        this.recountThread(channelId, parent);
        message.parent_user_id = parent.user;
      }
    }
    return message;
  }

  removeMessage(channelId: string, ts: string): SlackMessage | undefined {
    const list = this.messagesIn(channelId);
    const index = list.findIndex((m) => m.ts === ts);
    if (index < 0) return undefined;
    const [removed] = list.splice(index, 1);
    if (removed?.thread_ts && removed.thread_ts !== removed.ts) {
      const parent = this.message(channelId, removed.thread_ts);
      if (parent) this.recountThread(channelId, parent);
    }
    return removed;
  }

  private recountThread(channelId: string, parent: SlackMessage) {
    const replies = this.messagesIn(channelId).filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
    const users = [...new Set(replies.map((r) => r.user).filter((u): u is string => u !== undefined))];
    if (replies.length === 0) {
      delete parent.reply_count;
      delete parent.reply_users;
      delete parent.reply_users_count;
      delete parent.latest_reply;
      return;
    }
    parent.reply_count = replies.length;
    parent.reply_users = users;
    parent.reply_users_count = users.length;
    parent.latest_reply = replies[replies.length - 1]?.ts;
  }
}

export function compareTs(a: string, b: string): number {
  const [as, au = '0'] = a.split('.');
  const [bs, bu = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(au.padEnd(6, '0')) - Number(bu.padEnd(6, '0'));
}

export function seedAcme(store: SlackStore, botMemberOf: string[]): void {
  store.addTeam(ACME);
  store.addUser(ACME.id, { ...CAROL, isExternal: true }).teamId = CUSTOMER_TEAM_ID;
  store.addChannel(ACME.id, {
    ...SHARED_CHANNEL,
    isExtShared: true,
    members: ['U0ADA00001', 'U0GRACE001', CAROL.id],
  });
  store.addChannel(ACME.id, { ...ARCHIVED_CHANNEL, isArchived: true, members: ['U0ADA00001'] });
  const { botUserId } = store.bot(ACME.id);
  for (const id of botMemberOf) store.channel(id).members.add(botUserId);
}
