// Notification rules and preferences at the edge: strict inputs (a bad rule is refused naming its field), and the
// shapes the routing statement (activities/notifications/route.ts) reads back out of the rule's JSON columns.
import {
  memberRoles,
  notificationCategories,
  notificationChannels,
  notificationStatuses,
  notificationTriggers,
  ticketChannels,
  ticketPriorities,
  ticketStatuses,
} from '../../common/enums.ts';
import { z } from '../zod.ts';

const isoDateTime = z.iso.datetime({ offset: true });

export const MAX_RULES_PER_ORGANIZATION = 2000;
export const MAX_WINDOW_MINUTES = 7 * 24 * 60;

const recipient = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('assignee'),
      /** Who hears of it while the ticket is unassigned: nobody (default) or the team. */
      whenUnassigned: z.enum(['nobody', 'team']).optional(),
    })
    .strict(),
  z.object({ type: z.literal('role'), role: z.enum(memberRoles) }).strict(),
  z.object({ type: z.literal('user'), userId: z.string().min(1).max(200) }).strict(),
  /** The organisation's support team: every admin and agent. */
  z.object({ type: z.literal('team') }).strict(),
  z
    .object({
      type: z.literal('slack_channel'),
      integrationId: z.uuid(),
      channelId: z.string().regex(/^[CG][A-Z0-9]+$/),
    })
    .strict(),
  /** The ticket's requester, by email only, and never for internal events (see ruleProblems). */
  z.object({ type: z.literal('requester') }).strict(),
]);
export type NotificationRecipient = z.infer<typeof recipient>;

const conditions = z
  .object({
    priorities: z.array(z.enum(ticketPriorities)).min(1).optional(),
    statuses: z.array(z.enum(ticketStatuses)).min(1).optional(),
    /** The ticket has at least one of these tags. */
    tags: z.array(z.string().min(1).max(100)).min(1).max(50).optional(),
    ticketChannels: z.array(z.enum(ticketChannels)).min(1).optional(),
    assignee: z.enum(['any', 'assigned', 'unassigned']).optional(),
    /** The requester's email domain, lower case (example.com). */
    requesterDomains: z
      .array(
        z
          .string()
          .toLowerCase()
          .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'a domain such as example.com'),
      )
      .min(1)
      .max(50)
      .optional(),
    /** ok: no deadline passed; warning: an SLA warning event; breached: a deadline passed and the ticket is open. */
    slaStates: z
      .array(z.enum(['ok', 'warning', 'breached']))
      .min(1)
      .optional(),
    /** At least this long since the last public reply (or since the ticket was created when there is none). */
    minutesSinceLastReply: z
      .number()
      .int()
      .min(1)
      .max(60 * 24 * 90)
      .optional(),
  })
  .strict();
export type NotificationConditions = z.infer<typeof conditions>;

const windowMinutes = z.number().int().min(1).max(MAX_WINDOW_MINUTES);
const groupBy = z.enum(['ticket', 'event_type', 'rule', 'recipient']);
const delivery = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('immediate') }).strict(),
  /** Gathered for `windowMinutes` from the first one, then sent as one summary per group. */
  z.object({ mode: z.literal('digest'), windowMinutes, groupBy: groupBy.optional() }).strict(),
  /** At most `limit` per `windowMinutes` per recipient and key; the rest are recorded as throttled. */
  z
    .object({
      mode: z.literal('throttle'),
      limit: z.number().int().min(1).max(1000),
      windowMinutes,
      key: groupBy.optional(),
    })
    .strict(),
]);
export type NotificationDelivery = z.infer<typeof delivery>;

const escalation = z
  .object({
    afterMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    recipients: z.array(recipient).min(1).max(20),
  })
  .strict();
export type NotificationEscalation = z.infer<typeof escalation>;

const ruleFields = {
  name: z.string().trim().min(1).max(200),
  triggerEvents: z
    .array(z.enum(notificationTriggers))
    .min(1, 'name at least one event')
    .max(notificationTriggers.length)
    .transform((t) => [...new Set(t)]),
  conditions: conditions.optional(),
  channels: z
    .array(z.enum(notificationChannels))
    .min(1, 'name at least one channel')
    .transform((c) => [...new Set(c)]),
  recipients: z.array(recipient).min(1, 'name at least one recipient').max(50),
  delivery: delivery.optional(),
  severity: z.enum(['normal', 'critical']).optional(),
  escalation: escalation.nullable().optional(),
  webhookEndpointId: z.uuid().nullable().optional(),
  isActive: z.boolean().optional(),
};

export const createRuleInput = z.object(ruleFields).strict();
export type CreateRuleInput = z.output<typeof createRuleInput>;
export const updateRuleInput = z.object(ruleFields).partial().strict();
export type UpdateRuleInput = z.output<typeof updateRuleInput>;

export const ruleView = z.object({
  id: z.uuid(),
  name: z.string(),
  triggerEvents: z.array(z.string()),
  conditions,
  channels: z.array(z.enum(notificationChannels)),
  recipients: z.array(recipient),
  delivery,
  severity: z.enum(['normal', 'critical']),
  escalation: escalation.nullable(),
  webhookEndpointId: z.uuid().nullable(),
  isActive: z.boolean(),
  defaultKey: z.string().nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type RuleView = z.infer<typeof ruleView>;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');
const timeZone = z
  .string()
  .min(1)
  .max(100)
  .refine((tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  }, 'an IANA time zone such as Europe/Paris');

export const preferencesInput = z
  .object({
    channels: z.partialRecord(z.enum(notificationCategories), z.array(z.enum(notificationChannels))).optional(),
    quietHours: z.object({ start: hhmm, end: hhmm, timeZone }).strict().nullable().optional(),
    digestFrequency: z.enum(['off', 'hourly', 'daily']).optional(),
  })
  .strict();
export type PreferencesInput = z.output<typeof preferencesInput>;

export const preferencesView = z.object({
  channels: z.partialRecord(z.enum(notificationCategories), z.array(z.enum(notificationChannels))),
  quietHours: z.object({ start: z.string(), end: z.string(), timeZone: z.string() }).nullable(),
  digestFrequency: z.enum(['off', 'hourly', 'daily']),
});
export type PreferencesView = z.infer<typeof preferencesView>;

export const notificationView = z.object({
  id: z.number().int(),
  channel: z.enum(notificationChannels),
  eventType: z.string(),
  category: z.string(),
  severity: z.enum(['normal', 'critical']),
  title: z.string(),
  body: z.string(),
  link: z.string().nullable(),
  ticketId: z.uuid().nullable(),
  ruleId: z.uuid().nullable(),
  ruleName: z.string().nullable(),
  status: z.enum(notificationStatuses),
  reason: z.string().nullable(),
  deliverAfter: isoDateTime.nullable(),
  alertId: z.uuid().nullable(),
  createdAt: isoDateTime,
  sentAt: isoDateTime.nullable(),
  readAt: isoDateTime.nullable(),
});
export type NotificationView = z.infer<typeof notificationView>;

/** The sample event of the rules editor's preview: a ticket as it would be, and what happened to it. */
export const previewInput = z
  .object({
    eventType: z.enum(notificationTriggers),
    ticket: z
      .object({
        priority: z.enum(ticketPriorities).optional(),
        status: z.enum(ticketStatuses).optional(),
        tags: z.array(z.string()).max(50).optional(),
        channel: z.enum(ticketChannels).optional(),
        assigneeId: z.string().nullable().optional(),
        requesterEmail: z.email().nullable().optional(),
      })
      .strict()
      .optional(),
    /** Evaluate this rule as written (not yet saved) instead of the organisation's saved rules. */
    rule: createRuleInput.optional(),
  })
  .strict();
export type PreviewInput = z.output<typeof previewInput>;

export const previewView = z.object({
  /** The Slack message the sample would be (the Slack channel's own Block Kit), when a row goes to Slack. */
  slackMessage: z.object({ text: z.string(), blocks: z.array(z.record(z.string(), z.unknown())) }).nullable(),
  data: z.array(
    z.object({
      ruleId: z.uuid().nullable(),
      ruleName: z.string(),
      recipient: z.object({ key: z.string(), label: z.string(), userId: z.string().nullable() }),
      channel: z.enum(notificationChannels),
      /** What the recipient's preferences and quiet hours would make of it now. */
      decision: z.enum(['send_now', 'digest', 'throttle_window', 'defer_quiet_hours', 'suppressed']),
      when: isoDateTime,
      reason: z.string().nullable(),
    }),
  ),
});
export type PreviewView = z.infer<typeof previewView>;
