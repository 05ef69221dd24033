// A notification rule as the editor holds it (free text where people type lists and numbers), and the rule as the
// API takes it. What is typed goes as typed, so the API's 422 names the field when it is wrong; a condition left
// empty is left out (it holds for every event).
import type { TicketChannel, TicketPriority, TicketStatus } from '../../api.ts';
import { parseTags } from '../../format.ts';
import type {
  NotificationChannel,
  NotificationConditions,
  NotificationDelivery,
  NotificationRecipient,
  NotificationRule,
  NotificationRuleInput,
  NotificationTrigger,
} from '../../notifications.ts';

export type GroupBy = 'ticket' | 'event_type' | 'rule' | 'recipient';
export type SlaState = NonNullable<NotificationConditions['slaStates']>[number];

export type RuleDraft = {
  name: string;
  triggerEvents: NotificationTrigger[];
  priorities: TicketPriority[];
  statuses: TicketStatus[];
  tags: string;
  ticketChannels: TicketChannel[];
  assignee: '' | 'any' | 'assigned' | 'unassigned';
  requesterDomains: string;
  slaStates: SlaState[];
  minutesSinceLastReply: string;
  channels: NotificationChannel[];
  webhookEndpointId: string;
  recipients: NotificationRecipient[];
  deliveryMode: NotificationDelivery['mode'];
  digestWindow: string;
  digestGroupBy: GroupBy;
  throttleLimit: string;
  throttleWindow: string;
  throttleKey: GroupBy;
  severity: 'normal' | 'critical';
  escalate: boolean;
  escalationAfter: string;
  escalationRecipients: NotificationRecipient[];
  isActive: boolean;
};

export function emptyDraft(): RuleDraft {
  return {
    name: '',
    triggerEvents: ['ticket.created'],
    priorities: [],
    statuses: [],
    tags: '',
    ticketChannels: [],
    assignee: '',
    requesterDomains: '',
    slaStates: [],
    minutesSinceLastReply: '',
    channels: ['in_app'],
    webhookEndpointId: '',
    recipients: [{ type: 'assignee' }],
    deliveryMode: 'immediate',
    digestWindow: '30',
    digestGroupBy: 'ticket',
    throttleLimit: '5',
    throttleWindow: '60',
    throttleKey: 'ticket',
    severity: 'normal',
    escalate: false,
    escalationAfter: '15',
    escalationRecipients: [{ type: 'role', role: 'admin' }],
    isActive: true,
  };
}

export function draftOf(rule: NotificationRule): RuleDraft {
  const base = emptyDraft();
  const c = rule.conditions;
  const d = rule.delivery;
  return {
    ...base,
    name: rule.name,
    triggerEvents: rule.triggerEvents as NotificationTrigger[],
    priorities: [...(c.priorities ?? [])],
    statuses: [...(c.statuses ?? [])],
    tags: (c.tags ?? []).join(', '),
    ticketChannels: [...(c.ticketChannels ?? [])],
    assignee: c.assignee ?? '',
    requesterDomains: (c.requesterDomains ?? []).join(', '),
    slaStates: [...(c.slaStates ?? [])],
    minutesSinceLastReply: c.minutesSinceLastReply ? String(c.minutesSinceLastReply) : '',
    channels: [...rule.channels],
    webhookEndpointId: rule.webhookEndpointId ?? '',
    recipients: rule.recipients.map((r) => ({ ...r })),
    deliveryMode: d.mode,
    ...(d.mode === 'digest'
      ? { digestWindow: String(d.windowMinutes), digestGroupBy: d.groupBy ?? 'ticket' }
      : d.mode === 'throttle'
        ? { throttleLimit: String(d.limit), throttleWindow: String(d.windowMinutes), throttleKey: d.key ?? 'ticket' }
        : {}),
    severity: rule.severity,
    escalate: rule.escalation !== null,
    escalationAfter: rule.escalation ? String(rule.escalation.afterMinutes) : base.escalationAfter,
    escalationRecipients: rule.escalation
      ? rule.escalation.recipients.map((r) => ({ ...r }))
      : base.escalationRecipients,
    isActive: rule.isActive,
  };
}

/** "a.test, b.test c.test" → ["a.test", "b.test", "c.test"] */
function parseList(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}

/** A typed number as a number; anything else goes as typed, for the API to name. */
function numberOf(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? Number.NaN : Number(trimmed);
}

export function ruleFromDraft(draft: RuleDraft): NotificationRuleInput {
  const tags = parseTags(draft.tags);
  const domains = parseList(draft.requesterDomains);
  const conditions: NotificationConditions = {
    ...(draft.priorities.length ? { priorities: draft.priorities } : {}),
    ...(draft.statuses.length ? { statuses: draft.statuses } : {}),
    ...(tags.length ? { tags } : {}),
    ...(draft.ticketChannels.length ? { ticketChannels: draft.ticketChannels } : {}),
    ...(draft.assignee ? { assignee: draft.assignee } : {}),
    ...(domains.length ? { requesterDomains: domains } : {}),
    ...(draft.slaStates.length ? { slaStates: draft.slaStates } : {}),
    ...(draft.minutesSinceLastReply.trim() ? { minutesSinceLastReply: numberOf(draft.minutesSinceLastReply) } : {}),
  };
  const delivery: NotificationDelivery =
    draft.deliveryMode === 'digest'
      ? { mode: 'digest', windowMinutes: numberOf(draft.digestWindow), groupBy: draft.digestGroupBy }
      : draft.deliveryMode === 'throttle'
        ? {
            mode: 'throttle',
            limit: numberOf(draft.throttleLimit),
            windowMinutes: numberOf(draft.throttleWindow),
            key: draft.throttleKey,
          }
        : { mode: 'immediate' };
  return {
    name: draft.name,
    triggerEvents: draft.triggerEvents,
    conditions,
    channels: draft.channels,
    recipients: draft.recipients,
    delivery,
    severity: draft.severity,
    escalation: draft.escalate
      ? { afterMinutes: numberOf(draft.escalationAfter), recipients: draft.escalationRecipients }
      : null,
    webhookEndpointId: draft.channels.includes('webhook') && draft.webhookEndpointId ? draft.webhookEndpointId : null,
    isActive: draft.isActive,
  };
}

/**
 * The API's field errors by path without the body (and, for the preview, the rule) prefix: "recipients.0.userId".
 * `at(prefix)` is every message about that field or inside it.
 */
export type FieldErrors = {
  at: (prefix: string) => string | null;
  /** Only the messages about exactly this path (a list as a whole, not its items). */
  exact: (path: string) => string | null;
};

export function fieldErrors(details: { path: string; message: string }[], strip = /^body\.(rule\.)?/): FieldErrors {
  const list = details.map((d) => ({ path: d.path.replace(strip, ''), message: d.message }));
  const join = (found: typeof list) => found.map((d) => d.message).join('; ') || null;
  return {
    exact: (path) => join(list.filter((d) => d.path === path)),
    at: (prefix) => join(list.filter((d) => d.path === prefix || d.path.startsWith(`${prefix}.`))),
  };
}

export const noFieldErrors: FieldErrors = { at: () => null, exact: () => null };

const recipientWords = (r: NotificationRecipient, nameOf: (userId: string) => string): string => {
  switch (r.type) {
    case 'assignee':
      return r.whenUnassigned === 'team' ? 'the assignee (the team while unassigned)' : 'the assignee';
    case 'role':
      return `every ${r.role}`;
    case 'user':
      return nameOf(r.userId);
    case 'team':
      return 'the team';
    case 'slack_channel':
      return `Slack channel ${r.channelId}`;
    case 'requester':
      return 'the requester';
  }
};

export function describeRecipients(list: NotificationRecipient[], nameOf: (userId: string) => string): string {
  return list.map((r) => recipientWords(r, nameOf)).join(', ');
}

export function describeDelivery(d: NotificationDelivery): string {
  if (d.mode === 'digest') return `digest every ${d.windowMinutes} min${d.groupBy ? ` by ${d.groupBy}` : ''}`;
  if (d.mode === 'throttle')
    return `at most ${d.limit} per ${d.windowMinutes} min${d.key ? ` per ${d.key.replace('_', ' ')}` : ''}`;
  return 'immediately';
}
