// The shared enumerations, in one module with no imports: the drizzle enums (packages/database), the zod schemas
// of the API and the events, the workflows and the dashboard all take their values from here, so adding a status
// is one edit (and a migration for the database enum). Orders matter where noted.
// Event types are the keys of the catalogue (common/ticket-events.ts); integration types are the module list
// (packages/integrations/index.ts).

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
