import { sql } from 'drizzle-orm';
import type { ActorType } from '../../../common/enums.ts';
import type { Executor } from './client.ts';
import { ticketEvents } from './schema.ts';

/** Channel the relay LISTENs on so it wakes as soon as an event commits, instead of waiting for its poll. */
export const OUTBOX_CHANNEL = 'ticket_events';

export type NewTicketEvent = {
  organizationId: string;
  supportRequestId: string;
  type: string;
  payload: unknown;
  actorType: ActorType;
  actorId: string | null;
};

/**
 * Appends an event to the outbox. Call it inside the transaction that makes the change, after
 * locking the ticket row (SELECT … FOR UPDATE or an UPDATE of it): that lock is what keeps one
 * ticket's event ids in commit order, which the relay and the ticket workflow's dedupe rely on.
 * The NOTIFY is delivered only if the transaction commits.
 */
export async function appendTicketEvent(tx: Executor, event: NewTicketEvent) {
  const [row] = await tx.insert(ticketEvents).values(event).returning();
  await tx.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`);
  return row!;
}
