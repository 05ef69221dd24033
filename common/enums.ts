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

/** Where a notification can go (issue 13). */
export const notificationChannels = ['in_app', 'email', 'slack', 'webhook'] as const;
export type NotificationChannel = (typeof notificationChannels)[number];

/**
 * What can trigger a notification: every ticket event, and an integration's failure (reported by the health
 * monitor, not the outbox).
 */
export const notificationTriggers = [...ticketEventTypes, 'integration.failed'] as const;
export type NotificationTrigger = (typeof notificationTriggers)[number];

/** The categories a member's preferences name, each a family of triggers (its prefix before the dot). */
export const notificationCategories = ['ticket', 'comment', 'sla', 'attachment', 'integration'] as const;
export type NotificationCategory = (typeof notificationCategories)[number];

/**
 * What became of a notification: pending until its recipient's workflow decides; deferred waits for quiet hours to
 * end; the others are final.
 */
export const notificationStatuses = [
  'pending',
  'deferred',
  'sent',
  'digested',
  'throttled',
  'suppressed',
  'failed',
] as const;
export type NotificationStatus = (typeof notificationStatuses)[number];
