// What a Linear installation stores. The config is what the setup wizard edits (team, mappings, rules, policies);
// the credentials are sealed and only opened by the activities that call Linear.

import { ticketPriorities, ticketStatuses } from '../../common/enums.ts';
import type { LinearCredentials as StoredLinearCredentials } from '../../common/linear/client.ts';
import { z } from '../zod.ts';

const ticketStatus = z.enum(ticketStatuses);
const ticketPriority = z.enum(ticketPriorities);
const linearId = z.string().min(1).max(100);

/** A rule that creates a Linear issue for a ticket by itself: every listed condition must hold (tags: any of them). */
export const autoCreateRule = z
  .object({
    tags: z.array(z.string().min(1).max(100)).max(50).optional(),
    priorities: z.array(ticketPriority).min(1).optional(),
  })
  .strict()
  .refine((r) => (r.tags?.length ?? 0) > 0 || (r.priorities?.length ?? 0) > 0, 'a rule needs tags or priorities');
export type AutoCreateRule = z.infer<typeof autoCreateRule>;

export const linearConfigSchema = z
  .object({
    /**
     * The Linear team new issues are created in (and whose workflow states the mapping names). Agents may link
     * only issues of this team and of `additionalTeamIds`: the token may see every team of the workspace, private
     * ones included, and a link shows its issue (title, state, assignee, comments) to the ticket's agents.
     */
    teamId: linearId.optional(),
    /** Teams besides `teamId` whose existing issues agents may link (an admin widens the restriction here). */
    additionalTeamIds: z
      .array(linearId)
      .max(20)
      .default([])
      .refine((ids) => new Set(ids).size === ids.length, 'a team is listed twice'),
    /** Create a Linear issue for every new ticket, not only on request or by rule. */
    autoCreateIssues: z.boolean().default(false),
    /** Create an issue when a ticket matches any of these (checked on create and on each update). */
    autoCreateRules: z.array(autoCreateRule).max(20).default([]),
    /** Ticket status → Linear workflow state id. Unmapped statuses use the default for their kind. */
    statusToLinear: z.partialRecord(ticketStatus, linearId).default({}),
    /** Linear workflow state id → ticket status. Unmapped states use the default for their state type. */
    linearToStatus: z.record(linearId, ticketStatus).default({}),
    /** Sync priority both ways (urgent/high/normal/low ↔ Linear 1/2/3/4). */
    syncPriority: z.boolean().default(true),
    /** Which ticket comments go to Linear: public replies only, internal notes too, or none. */
    commentsToLinear: z.enum(['public', 'all', 'none']).default('public'),
    /** Linear comments arrive on the ticket as internal notes (default) or public replies. */
    commentsFromLinear: z.enum(['internal', 'public', 'none']).default('internal'),
    /** Both sides changed the same field since the last sync: the later change, or always one side, wins. */
    conflictPolicy: z.enum(['latest', 'ticket', 'linear']).default('latest'),
    /** How often each link compares itself with Linear, catching missed webhooks. */
    reconcileIntervalMinutes: z.number().int().min(1).max(1440).default(10),
    /** Labels put on issues created from tickets. */
    labelIds: z.array(linearId).max(20).default([]),
    /** Set by the server: the workspace and token this installation talks to. */
    workspace: z.object({ id: z.string(), name: z.string(), urlKey: z.string() }).strict().optional(),
    /** Set by the server: 'user' (changes appear as the admin) or 'app' (as the application). */
    actor: z.enum(['user', 'app']).optional(),
    /** Set by the server: the Linear user our token acts as (its changes are ours). */
    viewerId: z.string().optional(),
    /** Set by the server: the webhook registered through the API, if the token could. */
    webhookId: z.string().optional(),
  })
  .strict();
export type LinearConfig = z.infer<typeof linearConfigSchema>;

/** The teams whose issues this installation may link or create: its team and the ones an admin added. */
export function allowedTeamIds(config: Pick<LinearConfig, 'teamId' | 'additionalTeamIds'>): string[] {
  return [...new Set([...(config.teamId ? [config.teamId] : []), ...(config.additionalTeamIds ?? [])])];
}

/** Either a personal API key or an OAuth grant; `webhookSecret` signs Linear's webhooks to us. */
export const linearCredentialsSchema = z
  .object({
    apiKey: z.string().min(1).max(500).optional(),
    accessToken: z.string().min(1).max(5000).optional(),
    refreshToken: z.string().min(1).max(5000).optional(),
    /** Epoch ms. */
    expiresAt: z.number().int().optional(),
    scopes: z.array(z.string()).optional(),
    webhookSecret: z.string().min(1).max(500).optional(),
  })
  .strict()
  .refine((c) => Boolean(c.apiKey) !== Boolean(c.accessToken), 'give either apiKey or accessToken');
export type LinearCredentials = z.infer<typeof linearCredentialsSchema>;
// The Linear client reads what this schema stores: the two must not drift apart.
const _storedShape: StoredLinearCredentials = {} as LinearCredentials;
const _validatedShape: LinearCredentials = {} as Required<StoredLinearCredentials>;
void _storedShape;
void _validatedShape;
