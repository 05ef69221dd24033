// Which Slack messages a ticket's events call for, as pure functions: given the ticket as it is now, the
// installation's channel rules, the channels that already hold the ticket's message, and the batch of events,
// decide what to post where. Free of I/O (and of zod), so the activity that gathers the facts and the tests that
// state the rules share it.
//
// The shape it keeps: one parent message per ticket per channel, posted when a rule first wants the ticket there and
// then edited in place; the ticket's later events go into that message's thread, never into the channel itself,
// except alerts (high priority, SLA) which are also shown in the channel (reply_broadcast).
import type { TicketChannel, TicketEventType, TicketPriority, TicketStatus } from '../common/enums.ts';
import type { SlackMessageKind } from '../common/slack/message-kinds.ts';

/** The rule's conditions (domain/slack/config.ts's slackRule, without zod): every listed one must hold. */
export type ChannelRule = {
  id: string;
  channelId: string;
  kinds: readonly SlackMessageKind[];
  priorities?: readonly TicketPriority[] | undefined;
  statuses?: readonly TicketStatus[] | undefined;
  tags?: readonly string[] | undefined;
  assignees?: readonly string[] | undefined;
  requesterDomains?: readonly string[] | undefined;
  ticketChannels?: readonly TicketChannel[] | undefined;
};

export type TicketFacts = {
  priority: TicketPriority;
  status: TicketStatus;
  tags: readonly string[];
  assigneeId: string | null;
  requesterEmail: string | null;
  channel: TicketChannel;
};

/** An event as the planner needs it: its type and the few facts of its payload that decide anything. */
export type PlannedEvent = {
  id: number;
  type: TicketEventType;
  /** ticket.updated: the priority before and after, when it changed. */
  priorityChange?: { from: TicketPriority; to: TicketPriority };
  /** comment.created: where the comment came from (comments made in Slack are not echoed back). */
  commentSource?: string;
  /** ticket.assigned: the new assignee. */
  assigneeId?: string | null;
  /** comment.created: agents the comment mentions who asked for their mentions by DM (its author excluded). */
  mentions?: readonly string[];
};

export type SlackOp =
  | { op: 'parent'; channelId: string; key: string }
  | { op: 'update'; channelId: string; key: string }
  | { op: 'reply'; channelId: string; eventId: number; broadcast: boolean; key: string }
  | { op: 'dm'; userId: string; eventId: number; reason: 'assigned' | 'mentioned'; key: string }
  /**
   * The ticket's message in a DM with one Slack user, for a private discussion mirrored as internal notes. Its key is
   * a channel parent's (`parent/<ticket>/<D…>`), known once the DM is opened.
   */
  | { op: 'dm_parent'; slackUserId: string };

export type PlanInput = {
  ticketId: string;
  ticket: TicketFacts;
  rules: readonly ChannelRule[];
  /** Channels (and DMs) that already hold the ticket's parent message. */
  parents: readonly string[];
  events: readonly PlannedEvent[];
  /** Agents who asked for their assignments by DM. */
  dmAssignments: readonly string[];
};

const ALERT_PRIORITIES: readonly TicketPriority[] = ['high', 'urgent'];

export function parentKey(ticketId: string, channelId: string): string {
  return `parent/${ticketId}/${channelId}`;
}

export function ruleMatches(rule: ChannelRule, ticket: TicketFacts): boolean {
  if (rule.priorities && !rule.priorities.includes(ticket.priority)) return false;
  if (rule.statuses && !rule.statuses.includes(ticket.status)) return false;
  if (rule.tags && !rule.tags.some((tag) => ticket.tags.includes(tag))) return false;
  if (rule.ticketChannels && !rule.ticketChannels.includes(ticket.channel)) return false;
  if (rule.assignees) {
    const assignee = ticket.assigneeId ?? 'unassigned';
    if (!rule.assignees.includes(assignee)) return false;
  }
  if (rule.requesterDomains) {
    const domain = ticket.requesterEmail?.split('@').pop()?.toLowerCase();
    if (!domain || !rule.requesterDomains.includes(domain)) return false;
  }
  return true;
}

/** The channels (in rule order, each once) whose matching rules ask for a kind of message. */
export function channelsFor(rules: readonly ChannelRule[], ticket: TicketFacts, kind: SlackMessageKind): string[] {
  const channels: string[] = [];
  for (const rule of rules)
    if (rule.kinds.includes(kind) && ruleMatches(rule, ticket) && !channels.includes(rule.channelId))
      channels.push(rule.channelId);
  return channels;
}

export function planSlackOps(input: PlanInput): SlackOp[] {
  const { ticketId, ticket, rules, events } = input;
  const parents = new Set(input.parents);
  const ops: SlackOp[] = [];
  const newParents = new Set<string>();
  let changed = false;

  const ensureParent = (channelId: string) => {
    if (parents.has(channelId)) return;
    parents.add(channelId);
    newParents.add(channelId);
    ops.push({ op: 'parent', channelId, key: parentKey(ticketId, channelId) });
  };
  const reply = (channelId: string, event: PlannedEvent, broadcast: boolean) => {
    // A parent posted in this batch already shows the ticket as it is: a reply would repeat it.
    if (!parents.has(channelId) || newParents.has(channelId)) return;
    ops.push({ op: 'reply', channelId, eventId: event.id, broadcast, key: `event/${event.id}/${channelId}` });
  };

  for (const event of events) {
    switch (event.type) {
      case 'ticket.created':
        for (const channelId of channelsFor(rules, ticket, 'new_ticket')) ensureParent(channelId);
        if (ALERT_PRIORITIES.includes(ticket.priority))
          for (const channelId of channelsFor(rules, ticket, 'high_priority')) ensureParent(channelId);
        break;
      case 'ticket.updated': {
        changed = true;
        const change = event.priorityChange;
        if (change && ALERT_PRIORITIES.includes(change.to) && !ALERT_PRIORITIES.includes(change.from))
          for (const channelId of channelsFor(rules, ticket, 'high_priority')) {
            reply(channelId, event, true);
            ensureParent(channelId);
          }
        break;
      }
      case 'ticket.status_changed':
        changed = true;
        for (const channelId of channelsFor(rules, ticket, 'status_change')) reply(channelId, event, false);
        break;
      case 'ticket.assigned':
        changed = true;
        if (event.assigneeId && input.dmAssignments.includes(event.assigneeId))
          ops.push({
            op: 'dm',
            userId: event.assigneeId,
            eventId: event.id,
            reason: 'assigned',
            key: `dm/${event.id}/${event.assigneeId}`,
          });
        break;
      case 'sla.warning':
      case 'sla.breached':
        changed = true;
        for (const channelId of channelsFor(rules, ticket, 'sla')) {
          reply(channelId, event, true);
          ensureParent(channelId);
        }
        break;
      case 'comment.created':
        for (const userId of event.mentions ?? [])
          ops.push({ op: 'dm', userId, eventId: event.id, reason: 'mentioned', key: `dm/${event.id}/${userId}` });
        if (event.commentSource === 'slack') break;
        for (const channelId of parents) reply(channelId, event, false);
        break;
      default:
        break;
    }
  }
  // The parent shows the ticket as it is now (status, assignee, SLA countdown): edited once per batch.
  if (changed)
    for (const channelId of parents)
      if (!newParents.has(channelId)) ops.push({ op: 'update', channelId, key: parentKey(ticketId, channelId) });
  return ops;
}

export type MentionCandidate = { userId: string; email: string; name: string };

/**
 * The agents a comment mentions: `@` followed by their email address, or by their first name as a whole word
 * (`@ada`, `@Ada,`), case-insensitive. The ticket core has no mention syntax of its own; this is the one agents
 * already type.
 */
export function mentionedIn(body: string, candidates: readonly MentionCandidate[], authorId: string | null): string[] {
  const lower = body.toLowerCase();
  const found: string[] = [];
  for (const c of candidates) {
    if (c.userId === authorId) continue;
    const first = c.name.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
    const byEmail = lower.includes(`@${c.email.toLowerCase()}`);
    const byName =
      first.length >= 2 &&
      new RegExp(`(^|[^\\w@.])@${first.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\w@])`).test(lower);
    if (byEmail || byName) found.push(c.userId);
  }
  return found;
}
