// The Slack setup's channel rules as the form holds them, and Slack's mrkdwn read the way Slack shows it (for the
// preview of a rule's message). Pure, so the tests check the rules the form sends against the API's schema and the
// rendering of the server's own Block Kit without a browser.
import { ticketChannels } from '../../../common/enums.ts';
import { slackMessageKinds } from '../../../common/slack/message-kinds.ts';
import type { SlackConfig, SlackMessageKind, SlackRule, TicketChannel, TicketPriority, TicketStatus } from './api.ts';
import { parseTags } from './format.ts';

export { slackMessageKinds, ticketChannels };

export const slackKindLabels: Record<SlackMessageKind, { label: string; hint: string }> = {
  new_ticket: { label: 'New tickets', hint: 'The ticket’s message, kept current as the ticket changes.' },
  status_change: { label: 'Status changes', hint: 'A reply in the ticket’s thread.' },
  high_priority: {
    label: 'High or urgent priority',
    hint: 'Posts the ticket when it is raised to high or urgent, and says so in the channel too.',
  },
  sla: { label: 'SLA warnings and breaches', hint: 'A thread reply that is also shown in the channel.' },
};

export const ticketChannelLabels: Record<TicketChannel, string> = {
  web: 'Web',
  email: 'Email',
  slack: 'Slack',
  api: 'API',
};

/** A rule's conditions that the form edits as one line of text, comma separated. */
export type SlackRuleDraft = {
  /** React's key: a rule's position changes when one before it is removed. */
  key: number;
  id: string;
  name: string;
  channelId: string;
  channelName: string;
  kinds: SlackMessageKind[];
  priorities: TicketPriority[];
  statuses: TicketStatus[];
  tags: string;
  /** Member ids, and `unassigned` for tickets nobody has. */
  assignees: string[];
  requesterDomains: string;
  ticketChannels: TicketChannel[];
};

/** A rule's id: stable across renames, so the server keeps knowing which channel messages came from which rule. */
export function newRuleId(random: () => string = () => globalThis.crypto.randomUUID()): string {
  return `rule-${random()
    .replace(/[^a-z0-9]/g, '')
    .slice(0, 12)}`;
}

export function emptySlackRuleDraft(key: number, id: string = newRuleId()): SlackRuleDraft {
  return {
    key,
    id,
    name: '',
    channelId: '',
    channelName: '',
    kinds: ['new_ticket'],
    priorities: [],
    statuses: [],
    tags: '',
    assignees: [],
    requesterDomains: '',
    ticketChannels: [],
  };
}

export function slackRuleDraft(rule: SlackRule, key: number): SlackRuleDraft {
  return {
    key,
    id: rule.id,
    name: rule.name,
    channelId: rule.channelId,
    channelName: rule.channelName ?? '',
    kinds: [...rule.kinds],
    priorities: [...(rule.priorities ?? [])],
    statuses: [...(rule.statuses ?? [])],
    tags: (rule.tags ?? []).join(', '),
    assignees: [...(rule.assignees ?? [])],
    requesterDomains: (rule.requesterDomains ?? []).join(', '),
    ticketChannels: [...(rule.ticketChannels ?? [])],
  };
}

/** "a.test, b.test c.test" → ["a.test", "b.test", "c.test"]: domains never hold spaces or commas. */
export function parseDomains(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}

/**
 * The rule as the API takes it. A condition left empty is left out (it holds for every ticket); what is typed goes
 * as typed, so the API's answer names the field when it is wrong.
 */
export function slackRuleFromDraft(draft: SlackRuleDraft): SlackRule {
  const tags = parseTags(draft.tags);
  const domains = parseDomains(draft.requesterDomains);
  return {
    id: draft.id,
    name: draft.name,
    channelId: draft.channelId,
    ...(draft.channelName ? { channelName: draft.channelName } : {}),
    // In the catalogue's order, whatever order they were ticked in.
    kinds: slackMessageKinds.filter((k) => draft.kinds.includes(k)),
    ...(draft.priorities.length ? { priorities: draft.priorities } : {}),
    ...(draft.statuses.length ? { statuses: draft.statuses } : {}),
    ...(tags.length ? { tags } : {}),
    ...(draft.assignees.length ? { assignees: draft.assignees } : {}),
    ...(domains.length ? { requesterDomains: domains } : {}),
    ...(draft.ticketChannels.length ? { ticketChannels: draft.ticketChannels } : {}),
  };
}

/** The stored config, with the schema's default for rules. */
export function readSlackConfig(raw: Record<string, unknown> | undefined): SlackConfig {
  const config = (raw ?? {}) as Partial<SlackConfig>;
  return { ...config, rules: config.rules ?? [] };
}

export function slackConfigFromDrafts(drafts: SlackRuleDraft[], publicReplyPrefix: string): SlackConfig {
  const prefix = publicReplyPrefix.trim();
  return { rules: drafts.map(slackRuleFromDraft), ...(prefix ? { publicReplyPrefix: prefix } : {}) };
}

/** What a rule's conditions say, in a few words ("urgent · tags billing"), for the list of rules. */
export function describeConditions(rule: SlackRule, nameOf: (userId: string) => string): string {
  const parts: string[] = [];
  if (rule.priorities) parts.push(rule.priorities.join(' or '));
  if (rule.statuses) parts.push(rule.statuses.map((s) => s.replaceAll('_', ' ')).join(' or '));
  if (rule.tags) parts.push(`tagged ${rule.tags.join(' or ')}`);
  if (rule.assignees)
    parts.push(`assigned to ${rule.assignees.map((a) => (a === 'unassigned' ? 'nobody' : nameOf(a))).join(' or ')}`);
  if (rule.requesterDomains) parts.push(`from ${rule.requesterDomains.join(' or ')}`);
  if (rule.ticketChannels) parts.push(`via ${rule.ticketChannels.map((c) => ticketChannelLabels[c]).join(' or ')}`);
  return parts.length ? parts.join(' · ') : 'every ticket';
}

// ---- mrkdwn ----

/** One piece of a mrkdwn text, as Slack renders it. */
export type MrkdwnNode =
  | { type: 'text'; text: string }
  | { type: 'bold' | 'italic' | 'strike' | 'quote'; children: MrkdwnNode[] }
  | { type: 'code' | 'pre'; text: string }
  | { type: 'link'; url: string; children: MrkdwnNode[] }
  | { type: 'mention'; text: string }
  | { type: 'date'; text: string; iso: string; fallback: string }
  | { type: 'emoji'; name: string; text: string }
  | { type: 'break' };

/** The emoji Switchboard's own messages use, and a few common ones; any other stays as its :name:. */
const EMOJI: Record<string, string> = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  warning: '⚠️',
  red_circle: '🔴',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  large_green_circle: '🟢',
  large_blue_circle: '🔵',
  rotating_light: '🚨',
  x: '❌',
  eyes: '👀',
  tada: '🎉',
  fire: '🔥',
  bell: '🔔',
  memo: '📝',
  ticket: '🎫',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  speech_balloon: '💬',
  information_source: 'ℹ️',
  lock: '🔒',
  link: '🔗',
  thumbsup: '👍',
  '+1': '👍',
};

/** Slack escapes exactly these three in text; anything else stays as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Links that may be followed from the preview; anything else (javascript:, data:) is shown as text. */
export function safeUrl(url: string): string | null {
  try {
    const parsed = new URL(url);
    return ['http:', 'https:', 'mailto:'].includes(parsed.protocol) ? parsed.toString() : null;
  } catch {
    return null;
  }
}

const ordinal = (n: number) => {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
};

function sameDay(a: Date, b: Date, timeZone: string | undefined): boolean {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return day.format(a) === day.format(b);
}

function agoText(date: Date, now: Date): string {
  const seconds = Math.round((date.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(seconds);
  // Each unit is rounded before it is compared, so 59 minutes and 58 seconds reads as an hour, as in Slack.
  const units: [string, number, number][] = [
    ['second', 1, 60],
    ['minute', 60, 60],
    ['hour', 3600, 24],
    ['day', 86_400, 30],
    ['month', 30 * 86_400, 12],
    ['year', 365 * 86_400, Number.POSITIVE_INFINITY],
  ];
  let amount = '';
  for (const [unit, size, limit] of units) {
    const value = Math.round(abs / size);
    if (value < limit) {
      amount = `${value} ${unit}${value === 1 ? '' : 's'}`;
      break;
    }
  }
  return seconds >= 0 ? `in ${amount}` : `${amount} ago`;
}

/**
 * `<!date^1392734382^{date_short_pretty} at {time}|fallback>` as Slack writes it for the reader: in their own time
 * zone, with today, yesterday and tomorrow spelled out by the "pretty" tokens.
 */
export function formatSlackDate(
  seconds: number,
  format: string,
  now: Date = new Date(),
  timeZone: string | undefined = undefined,
): string {
  const date = new Date(seconds * 1000);
  const part = (options: Intl.DateTimeFormatOptions) =>
    new Intl.DateTimeFormat('en-US', { timeZone, ...options }).format(date);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'long',
      year: 'numeric',
      month: 'long',
      day: 'numeric',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const day = Number(parts.day);
  const long = `${parts.month} ${ordinal(day)}, ${parts.year}`;
  const short = part({ month: 'short', day: 'numeric', year: 'numeric' });
  const relative = (otherwise: string) => {
    for (const [offset, word] of [
      [0, 'today'],
      [-1, 'yesterday'],
      [1, 'tomorrow'],
    ] as const) {
      if (sameDay(date, new Date(now.getTime() + offset * 86_400_000), timeZone)) return word;
    }
    return otherwise;
  };
  const tokens: Record<string, () => string> = {
    date_num: () => new Intl.DateTimeFormat('en-CA', { timeZone }).format(date),
    date: () => long,
    date_short: () => short,
    date_long: () => `${parts.weekday}, ${long}`,
    date_pretty: () => relative(long),
    date_short_pretty: () => relative(short),
    date_long_pretty: () => relative(`${parts.weekday}, ${long}`),
    time: () => part({ hour: 'numeric', minute: '2-digit' }),
    time_secs: () => part({ hour: 'numeric', minute: '2-digit', second: '2-digit' }),
    ago: () => agoText(date, now),
  };
  return format.replace(/\{([a-z_]+)\}/g, (whole, token: string) => tokens[token]?.() ?? whole);
}

export type MrkdwnOptions = { now?: Date; timeZone?: string };

/** What `<…>` holds: a link, a mention, a date. */
function angle(raw: string, options: MrkdwnOptions): MrkdwnNode {
  const bar = raw.indexOf('|');
  const target = bar >= 0 ? raw.slice(0, bar) : raw;
  const label = bar >= 0 ? decodeEntities(raw.slice(bar + 1)) : null;
  if (target.startsWith('@')) return { type: 'mention', text: `@${label ?? target.slice(1)}` };
  if (target.startsWith('#')) return { type: 'mention', text: `#${label ?? target.slice(1)}` };
  if (target.startsWith('!date^')) {
    const [, seconds = '', format = '', link] = target.split('^');
    const fallback = label ?? '';
    const when = Number(seconds);
    if (!Number.isFinite(when) || seconds === '') return { type: 'text', text: fallback };
    const text = formatSlackDate(when, format, options.now, options.timeZone);
    const date: MrkdwnNode = { type: 'date', text, iso: new Date(when * 1000).toISOString(), fallback };
    const url = link ? safeUrl(decodeEntities(link)) : null;
    return url ? { type: 'link', url, children: [date] } : date;
  }
  if (target.startsWith('!subteam^')) return { type: 'mention', text: label ?? '@group' };
  if (target.startsWith('!')) return { type: 'mention', text: `@${label ?? target.slice(1)}` };
  const url = safeUrl(decodeEntities(target));
  const text = label ?? decodeEntities(target);
  return url ? { type: 'link', url, children: [{ type: 'text', text }] } : { type: 'text', text };
}

const MARKERS: Record<string, 'bold' | 'italic' | 'strike' | 'code'> = {
  '*': 'bold',
  _: 'italic',
  '~': 'strike',
  '`': 'code',
};
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c);
// `<…>` pieces stand in the line as one private-use character each while the emphasis is read, so a `*` inside a
// link's URL never opens bold, and bold can wrap a link (`*<url|title>*`, as the ticket's title is sent).
const HOLE = 0xe000;

function textNodes(text: string, holes: MrkdwnNode[]): MrkdwnNode[] {
  const nodes: MrkdwnNode[] = [];
  const pattern = /[\uE000-\uF8FF]|:([a-z0-9_+-]+):/g;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const at = match.index ?? 0;
    if (at > last) nodes.push({ type: 'text', text: decodeEntities(text.slice(last, at)) });
    const hole = match[0].length === 1 ? holes[match[0].charCodeAt(0) - HOLE] : undefined;
    const name = match[1];
    if (hole) nodes.push(hole);
    else if (name && EMOJI[name]) nodes.push({ type: 'emoji', name, text: EMOJI[name] });
    else nodes.push({ type: 'text', text: decodeEntities(match[0]) });
    last = at + match[0].length;
  }
  if (last < text.length) nodes.push({ type: 'text', text: decodeEntities(text.slice(last)) });
  return nodes;
}

function restoreHoles(text: string, holes: MrkdwnNode[]): string {
  return text.replace(/[\uE000-\uF8FF]/g, (c) => {
    const node = holes[c.charCodeAt(0) - HOLE];
    if (!node) return c;
    if (node.type === 'link') return node.url;
    return 'text' in node ? node.text : '';
  });
}

function inline(text: string, holes: MrkdwnNode[]): MrkdwnNode[] {
  const nodes: MrkdwnNode[] = [];
  let plain = '';
  const flush = () => {
    if (plain) nodes.push(...textNodes(plain, holes));
    plain = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    const kind = MARKERS[c];
    if (kind && !isWordChar(text[i - 1]) && !isSpace(text[i + 1])) {
      let close = -1;
      for (let j = i + 2; j < text.length; j++) {
        if (text[j] === c && !isSpace(text[j - 1]) && !isWordChar(text[j + 1])) {
          close = j;
          break;
        }
      }
      if (close > 0) {
        flush();
        const inner = text.slice(i + 1, close);
        nodes.push(
          kind === 'code'
            ? { type: 'code', text: decodeEntities(restoreHoles(inner, holes)) }
            : { type: kind, children: inline(inner, holes) },
        );
        i = close;
        continue;
      }
    }
    plain += c;
  }
  flush();
  return nodes;
}

function lines(text: string, holes: MrkdwnNode[]): MrkdwnNode[] {
  const nodes: MrkdwnNode[] = [];
  const all = text.split('\n');
  for (let i = 0; i < all.length; i++) {
    const line = all[i] as string;
    const quoted = /^(?:>|&gt;) ?(.*)$/.exec(line);
    if (quoted) {
      // Consecutive quoted lines are one quote, as in Slack.
      const quote: MrkdwnNode[] = inline(quoted[1] ?? '', holes);
      while (i + 1 < all.length && /^(?:>|&gt;)/.test(all[i + 1] as string)) {
        i++;
        quote.push({ type: 'break' }, ...inline((all[i] as string).replace(/^(?:>|&gt;) ?/, ''), holes));
      }
      nodes.push({ type: 'quote', children: quote });
      continue;
    }
    if (i > 0 && nodes.at(-1)?.type !== 'quote') nodes.push({ type: 'break' });
    nodes.push(...inline(line, holes));
  }
  return nodes;
}

/** A mrkdwn text as Slack shows it. */
export function parseMrkdwn(source: string, options: MrkdwnOptions = {}): MrkdwnNode[] {
  const holes: MrkdwnNode[] = [];
  const nodes: MrkdwnNode[] = [];
  // Preformatted blocks first: nothing inside them is formatting.
  const pieces = source.split('```');
  pieces.forEach((piece, index) => {
    const isPre = index % 2 === 1 && index < pieces.length - 1;
    if (isPre) {
      nodes.push({ type: 'pre', text: decodeEntities(piece.replace(/^\n/, '')) });
      return;
    }
    const text = index % 2 === 1 ? `\`\`\`${piece}` : piece;
    const withHoles = text.replace(/<([^<>\n]+)>/g, (_whole, raw: string) => {
      if (holes.length >= 0x18ff) return raw;
      holes.push(angle(raw, options));
      return String.fromCharCode(HOLE + holes.length - 1);
    });
    nodes.push(...lines(withHoles, holes));
  });
  return nodes;
}

/** A plain_text object's text: with `emoji`, its :names: become emoji as in mrkdwn. */
export function plainText(text: string, emoji = true): string {
  return emoji ? text.replace(/:([a-z0-9_+-]+):/g, (whole, name: string) => EMOJI[name] ?? whole) : text;
}
