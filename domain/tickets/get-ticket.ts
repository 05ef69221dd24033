import type { Database } from '@switchboard/database';
import type { Scope } from '../scope.ts';
import type { TicketView } from './schemas.ts';
import { loadTicketView } from './ticket-record.ts';

/** One ticket of the scope's organisation; another organisation's is a 404, like a missing one. */
export async function getTicket(db: Database, scope: Scope, ticketId: string): Promise<TicketView> {
  return loadTicketView(db, scope.organizationId, ticketId);
}
