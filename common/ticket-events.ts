// The catalogue of ticket events: what the outbox carries, what the timeline shows, what integrations subscribe to.
// Later issues add their own types here (integration events), each with a zod schema for its payload.
import { z } from 'zod';
import {
  type ActorType,
  commentSources,
  type TicketEventType,
  ticketChannels,
  ticketEventTypes,
  ticketPriorities,
  ticketStatuses,
} from './enums.ts';

const ticketStatus = z.enum(ticketStatuses);
const ticketPriority = z.enum(ticketPriorities);

/** The ticket as integrations see it in an event: enough to act without reading the database. */
export const ticketSnapshot = z.object({
  id: z.string().uuid(),
  number: z.number().int(),
  subject: z.string(),
  status: ticketStatus,
  priority: ticketPriority,
  assigneeId: z.string().nullable(),
  requesterId: z.string().uuid().nullable(),
  tags: z.array(z.string()),
  channel: z.enum(ticketChannels),
  firstResponseDueAt: z.string().datetime({ offset: true }).nullable(),
  resolutionDueAt: z.string().datetime({ offset: true }).nullable(),
  version: z.number().int(),
});
export type TicketSnapshot = z.infer<typeof ticketSnapshot>;

const change = <T extends z.ZodTypeAny>(t: T) => z.object({ from: t, to: t });

export const slaKind = z.enum(['first_response', 'resolution']);

/** A file on the ticket as events show it (issue 10): what it is and where it stands, never its bytes. */
export const attachmentSnapshot = z.object({
  id: z.string().uuid(),
  fileName: z.string(),
  mimeType: z.string(),
  fileSize: z.number().int(),
  source: z.string(),
  scanStatus: z.enum(['pending_scan', 'clean', 'infected', 'failed']),
  uploadedBy: z.object({ type: z.string(), id: z.string().nullable() }),
});

export const ticketEventPayloads = {
  'ticket.created': z.object({ ticket: ticketSnapshot }),
  'ticket.updated': z.object({
    ticket: ticketSnapshot,
    changes: z.record(z.string(), change(z.unknown())),
  }),
  'ticket.status_changed': z.object({ ticket: ticketSnapshot, from: ticketStatus, to: ticketStatus }),
  'ticket.assigned': z.object({ ticket: ticketSnapshot, from: z.string().nullable(), to: z.string().nullable() }),
  'comment.created': z.object({
    ticket: ticketSnapshot,
    comment: z.object({
      id: z.string().uuid(),
      /** The visibility: false for an internal note, which the requester never sees. */
      isPublic: z.boolean(),
      source: z.enum(commentSources),
      /** The comment's text as written. */
      body: z.string(),
      /** Who wrote it, as the API shows it: a member (user), the requester (customer) or someone relayed (external). */
      author: z.object({
        type: z.enum(['user', 'customer', 'external']),
        id: z.string().nullable(),
        name: z.string(),
      }),
      authorUserId: z.string().nullable(),
      authorCustomerId: z.string().nullable(),
      authorDisplayName: z.string().nullable(),
    }),
  }),
  'sla.warning': z.object({ ticket: ticketSnapshot, kind: slaKind, dueAt: z.string(), elapsedShare: z.number() }),
  'sla.breached': z.object({ ticket: ticketSnapshot, kind: slaKind, dueAt: z.string() }),
  'attachment.uploaded': z.object({ ticket: ticketSnapshot, attachment: attachmentSnapshot }),
  'attachment.available': z.object({ ticket: ticketSnapshot, attachment: attachmentSnapshot }),
  'attachment.blocked': z.object({ ticket: ticketSnapshot, attachment: attachmentSnapshot, signature: z.string() }),
  'attachment.failed': z.object({ ticket: ticketSnapshot, attachment: attachmentSnapshot, reason: z.string() }),
  'attachment.deleted': z.object({ ticket: ticketSnapshot, attachment: attachmentSnapshot }),
} as const satisfies Record<TicketEventType, z.ZodType>;

export { type TicketEventType, ticketEventTypes };
export type TicketEventPayload<T extends TicketEventType> = z.infer<(typeof ticketEventPayloads)[T]>;

export type { ActorType };
export type Actor = { type: ActorType; id: string | null };

/** An event as it travels from the outbox to the ticket workflow (ids as numbers, times as ISO strings). */
export type DispatchedTicketEvent = {
  id: number;
  organizationId: string;
  ticketId: string;
  type: TicketEventType;
  payload: unknown;
  actor: Actor;
  createdAt: string;
};
