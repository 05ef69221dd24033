// The shapes tickets take at the edge: what callers may send (strict: unknown fields are errors)
// and what they get back. Routes register these in the OpenAPI document; other callers (Slack, email,
// Linear sync) parse their input with the same schemas, so every way in obeys the same rules.

import { commentSources, ticketChannels, ticketPriorities, ticketStatuses } from '../../common/enums.ts';
import { z } from '../zod.ts';

export type { CommentSource, TicketChannel, TicketPriority, TicketStatus } from '../../common/enums.ts';
export { commentSources, ticketChannels, ticketPriorities, ticketStatuses };

const isoDateTime = z.iso.datetime({ offset: true });
const subject = z.string().trim().min(1, 'subject must not be empty').max(500, 'subject is at most 500 characters');
const userId = z.string().min(1).max(200);
/** Tags are trimmed and de-duplicated, so ["a", " a"] is one tag. */
const tags = z
  .array(z.string().trim().min(1, 'a tag must not be empty').max(50, 'a tag is at most 50 characters'))
  .max(30, 'at most 30 tags')
  .transform((list) => [...new Set(list)]);

export const createTicketInput = z
  .object({
    subject,
    description: z.string().max(65_535).optional(),
    priority: z.enum(ticketPriorities).optional(),
    status: z.enum(ticketStatuses).optional(),
    requesterEmail: z.email().max(320).optional(),
    requesterName: z.string().trim().min(1).max(200).optional(),
    assigneeId: userId.optional(),
    tags: tags.optional(),
    channel: z.enum(ticketChannels).optional(),
    firstResponseDueAt: isoDateTime.optional(),
    resolutionDueAt: isoDateTime.optional(),
  })
  .strict()
  .superRefine((input, ctx) => {
    if (input.requesterName !== undefined && input.requesterEmail === undefined)
      ctx.addIssue({ code: 'custom', path: ['requesterName'], message: 'requesterName needs requesterEmail' });
  });
export type CreateTicketInput = z.input<typeof createTicketInput>;

export const updateTicketInput = z
  .object({
    version: z.number().int().min(1),
    status: z.enum(ticketStatuses).optional(),
    priority: z.enum(ticketPriorities).optional(),
    assigneeId: userId.nullable().optional(),
    tags: tags.optional(),
    subject: subject.optional(),
    firstResponseDueAt: isoDateTime.nullable().optional(),
    resolutionDueAt: isoDateTime.nullable().optional(),
  })
  .strict();
export type UpdateTicketInput = z.input<typeof updateTicketInput>;

export const addCommentInput = z
  .object({
    body: z.string().min(1, 'body must not be empty').max(65_535, 'body is at most 65535 characters'),
    isPublic: z.boolean().default(true),
  })
  .strict();
export type AddCommentInput = z.input<typeof addCommentInput>;

/** One page of a ticket's comments or events; `order` asc (default) is oldest first, desc newest first. */
export const timelinePageQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(100).default(50),
    cursor: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe('nextCursor of the previous page, asked for with the same order'),
    order: z.enum(['asc', 'desc']).default('asc'),
  })
  .strict();
export type TimelinePageQuery = z.input<typeof timelinePageQuery>;

export const listTicketsQuery = z
  .object({
    status: z.enum(ticketStatuses).optional(),
    priority: z.enum(ticketPriorities).optional(),
    assigneeId: userId.optional(),
    requesterId: z.uuid().optional(),
    tag: z.string().min(1).max(50).optional(),
    q: z.string().trim().min(1).max(200).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().min(1).max(500).optional(),
  })
  .strict();
export type ListTicketsQuery = z.input<typeof listTicketsQuery>;

export const ticketView = z.object({
  id: z.uuid(),
  number: z.number().int(),
  subject: z.string(),
  description: z.string(),
  status: z.enum(ticketStatuses),
  priority: z.enum(ticketPriorities),
  requester: z.object({ id: z.uuid(), email: z.string(), name: z.string().nullable() }).nullable(),
  assigneeId: z.string().nullable(),
  tags: z.array(z.string()),
  channel: z.enum(ticketChannels),
  firstResponseDueAt: isoDateTime.nullable(),
  resolutionDueAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
  version: z.number().int(),
});
export type TicketView = z.infer<typeof ticketView>;

export const commentView = z.object({
  id: z.uuid(),
  ticketId: z.uuid(),
  body: z.string(),
  isPublic: z.boolean(),
  source: z.enum(commentSources),
  author: z.object({
    type: z.enum(['user', 'customer', 'external']),
    id: z.string().nullable(),
    name: z.string(),
  }),
  createdAt: isoDateTime,
});
export type CommentView = z.infer<typeof commentView>;

export const ticketEventView = z.object({
  id: z.number().int(),
  type: z.string(),
  payload: z.unknown(),
  actor: z.object({
    type: z.string(),
    id: z.string().nullable(),
    /** For an integration (Linear writing a change it synced): the installation's name, while it exists. */
    name: z.string().optional(),
  }),
  createdAt: isoDateTime,
  dispatchedAt: isoDateTime.nullable(),
});
export type TicketEventView = z.infer<typeof ticketEventView>;
