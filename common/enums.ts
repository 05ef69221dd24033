// The shared enumerations, in one module with no imports: the drizzle enums (packages/database), the zod schemas
// of the API and the events, the workflows and the dashboard all take their values from here, so adding a status
// is one edit (and a migration for the database enum). Orders matter where noted.
// Event types are listed here and each gets its payload schema in the catalogue (common/ticket-events.ts), which
// must cover exactly these; integration types are the module list (packages/integrations/index.ts).

/** A ticket's life, in order: the Linear sync maps states by it (workflows/linear-sync-plan.ts). */
export const ticketStatuses = ['open', 'pending', 'on_hold', 'solved', 'closed'] as const;
export type TicketStatus = (typeof ticketStatuses)[number];

/** Lowest first. */
export const ticketPriorities = ['low', 'normal', 'high', 'urgent'] as const;
export type TicketPriority = (typeof ticketPriorities)[number];

/** Where a ticket came from. */
export const ticketChannels = ['web', 'email', 'slack', 'api'] as const;
export type TicketChannel = (typeof ticketChannels)[number];

/** Where a comment came from (Linear mirrors comments into tickets). */
export const commentSources = ['web', 'email', 'slack', 'linear', 'api'] as const;
export type CommentSource = (typeof commentSources)[number];

/** Who did something: the timeline, audit rows and events carry it. */
export const actorTypes = ['user', 'api_key', 'customer', 'system', 'integration'] as const;
export type ActorType = (typeof actorTypes)[number];

/** An organisation member's role, most powerful first. */
export const memberRoles = ['admin', 'agent', 'viewer'] as const;
export type Role = (typeof memberRoles)[number];

/**
 * The ticket event catalogue's types, in the catalogue's order. Here rather than only as the keys of the catalogue's
 * zod schemas, so the workflow bundle (the webhooks subscription lists them) does not carry zod: the SDK evaluates a
 * workflow's modules once for every workflow it creates (and every one it takes back into its cache), and zod's were
 * a fifth of the workflow thread's CPU in a burst that started 100 delivery loops (specification/performance.md,
 * "Issue 8, the next levers").
 */
export const ticketEventTypes = [
  'ticket.created',
  'ticket.updated',
  'ticket.status_changed',
  'ticket.assigned',
  'comment.created',
  'sla.warning',
  'sla.breached',
  'attachment.uploaded',
  'attachment.available',
  'attachment.blocked',
  'attachment.failed',
  'attachment.deleted',
] as const;
export type TicketEventType = (typeof ticketEventTypes)[number];
