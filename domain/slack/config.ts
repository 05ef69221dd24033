// What a Slack installation stores. The config is what the setup page edits: the channel rules and the word that
// makes a thread reply public. The workspace itself (team, bot user) is in slack_workspaces, written only by the
// install, so no edit can point an installation at another workspace. The credentials (the bot token) are sealed
// and opened only by the code that calls Slack.
import { ticketChannels, ticketPriorities, ticketStatuses } from '../../common/enums.ts';
import { slackMessageKinds } from '../../common/slack/message-kinds.ts';
import { z } from '../zod.ts';

/** A channel id as Slack gives it: public (C…) or private (G…, older; C… today). */
const channelId = z.string().regex(/^[CG][A-Z0-9]{2,30}$/, 'must be a Slack channel id such as C0123ABCD');

export const slackRule = z
  .object({
    id: z.string().regex(/^[a-z0-9-]{1,40}$/, 'lowercase letters, digits and dashes, up to 40'),
    name: z.string().trim().min(1).max(100),
    channelId,
    /** The channel's name when the rule was saved, for display only. */
    channelName: z.string().max(100).optional(),
    /** Which messages the channel gets; a ticket's later events go into the thread of its message there. */
    kinds: z.array(z.enum(slackMessageKinds)).min(1, 'choose at least one kind of message'),
    priorities: z.array(z.enum(ticketPriorities)).min(1).optional(),
    statuses: z.array(z.enum(ticketStatuses)).min(1).optional(),
    /** Any of these tags. */
    tags: z.array(z.string().trim().min(1).max(50)).min(1).max(30).optional(),
    /** The team: tickets assigned to any of these agents (user ids); `unassigned` in the list matches no assignee. */
    assignees: z.array(z.string().min(1).max(200)).min(1).max(100).optional(),
    /** The requester's email domain (`customer.test`), any of these. */
    requesterDomains: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be a domain such as example.com'),
      )
      .min(1)
      .max(50)
      .optional(),
    ticketChannels: z.array(z.enum(ticketChannels)).min(1).optional(),
  })
  .strict();
export type SlackRule = z.infer<typeof slackRule>;

export const slackConfigSchema = z
  .object({
    rules: z
      .array(slackRule)
      .max(100)
      .default([])
      .refine((rules) => new Set(rules.map((r) => r.id)).size === rules.length, 'two rules have the same id'),
    /** A thread reply starting with this word goes to the customer (default SLACK_PUBLIC_REPLY_PREFIX, `!reply`). */
    publicReplyPrefix: z.string().trim().min(1).max(20).optional(),
  })
  .strict();
export type SlackConfig = z.infer<typeof slackConfigSchema>;

export const slackCredentialsSchema = z
  .object({
    botToken: z
      .string()
      .regex(/^xoxb-/, 'must be a bot token (xoxb-…)')
      .max(500),
    scopes: z.array(z.string().max(100)).max(100).optional(),
  })
  .strict();
export type SlackCredentials = z.infer<typeof slackCredentialsSchema>;

/** The stored config, read leniently: a row written by an older version still yields its rules. */
export function slackConfigOf(raw: unknown): SlackConfig {
  const parsed = slackConfigSchema.safeParse(raw ?? {});
  return parsed.success ? parsed.data : { rules: [] };
}
