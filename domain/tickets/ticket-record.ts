// Reading one ticket inside the organisation that owns it, and turning the row into the shapes the
// API (TicketView) and the event catalogue (TicketSnapshot) use.
import { customers, type Executor, supportRequests } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { notFound } from '../../common/errors.ts';
import type { TicketSnapshot } from '../../common/ticket-events.ts';
import type { TicketView } from './schemas.ts';

export type TicketRow = typeof supportRequests.$inferSelect;
type RequesterRow = Pick<typeof customers.$inferSelect, 'id' | 'email' | 'name'>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toTicketView(row: TicketRow, requester: RequesterRow | null): TicketView {
  return {
    id: row.id,
    number: row.number,
    subject: row.subject,
    description: row.description,
    status: row.status,
    priority: row.priority,
    requester: requester ? { id: requester.id, email: requester.email, name: requester.name } : null,
    assigneeId: row.assigneeId,
    tags: row.tags,
    channel: row.channel,
    firstResponseDueAt: iso(row.firstResponseDueAt),
    resolutionDueAt: iso(row.resolutionDueAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    version: row.version,
  };
}

export function toTicketSnapshot(row: TicketRow): TicketSnapshot {
  return {
    id: row.id,
    number: row.number,
    subject: row.subject,
    status: row.status,
    priority: row.priority,
    assigneeId: row.assigneeId,
    requesterId: row.requesterId,
    tags: row.tags,
    channel: row.channel,
    firstResponseDueAt: iso(row.firstResponseDueAt),
    resolutionDueAt: iso(row.resolutionDueAt),
    version: row.version,
  };
}

const ticketInOrganization = (organizationId: string, ticketId: string) =>
  and(eq(supportRequests.id, ticketId), eq(supportRequests.organizationId, organizationId));

/**
 * Locks the ticket row for the rest of the transaction. Every write to a ticket takes this lock before
 * appending to the outbox, so one ticket's event ids follow commit order. Another organisation's
 * ticket is indistinguishable from a missing one.
 */
export async function lockTicket(tx: Executor, organizationId: string, ticketId: string): Promise<TicketRow> {
  const [row] = await tx
    .select()
    .from(supportRequests)
    .where(ticketInOrganization(organizationId, ticketId))
    .for('update');
  if (!row) throw notFound('ticket');
  return row;
}

/** The ticket as the API shows it, or a 404 if it is not this organisation's. */
export async function loadTicketView(db: Executor, organizationId: string, ticketId: string): Promise<TicketView> {
  const [found] = await db
    .select({ ticket: supportRequests, requester: { id: customers.id, email: customers.email, name: customers.name } })
    .from(supportRequests)
    .leftJoin(customers, eq(customers.id, supportRequests.requesterId))
    .where(ticketInOrganization(organizationId, ticketId));
  if (!found) throw notFound('ticket');
  return toTicketView(found.ticket, found.requester);
}

/** Makes sure a ticket exists in the organisation before reading things that hang off it. */
export async function assertTicketExists(db: Executor, organizationId: string, ticketId: string): Promise<void> {
  const [found] = await db
    .select({ id: supportRequests.id })
    .from(supportRequests)
    .where(ticketInOrganization(organizationId, ticketId));
  if (!found) throw notFound('ticket');
}
