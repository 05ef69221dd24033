import { type Database, ticketEvents } from '@switchboard/database';
import { and, asc, eq } from 'drizzle-orm';
import type { Scope } from '../scope.ts';
import type { TicketEventView } from './schemas.ts';
import { assertTicketExists } from './ticket-record.ts';

/** The ticket's events oldest first: the outbox rows double as its history. */
export async function listTicketEvents(db: Database, scope: Scope, ticketId: string): Promise<TicketEventView[]> {
  await assertTicketExists(db, scope.organizationId, ticketId);
  const rows = await db
    .select()
    .from(ticketEvents)
    .where(and(eq(ticketEvents.organizationId, scope.organizationId), eq(ticketEvents.supportRequestId, ticketId)))
    .orderBy(asc(ticketEvents.id));
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    payload: row.payload,
    actor: { type: row.actorType, id: row.actorId },
    createdAt: row.createdAt.toISOString(),
    dispatchedAt: row.dispatchedAt ? row.dispatchedAt.toISOString() : null,
  }));
}
