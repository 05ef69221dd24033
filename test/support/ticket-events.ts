// Synthetic ticket events for workflow tests that signal a ticket workflow directly, without the outbox.
import type { DispatchedTicketEvent, TicketEventType, TicketSnapshot } from '../../common/ticket-events.ts';

export function ticketSnapshotFor(ticketId: string): TicketSnapshot {
  return {
    id: ticketId,
    number: 1,
    subject: 'Printer on fire',
    status: 'open',
    priority: 'normal',
    assigneeId: null,
    requesterId: null,
    tags: [],
    channel: 'web',
    firstResponseDueAt: null,
    resolutionDueAt: null,
    version: 1,
  };
}

/** Event `id` of `type` for the ticket, from the system actor, created now. */
export function syntheticTicketEvent(
  organizationId: string,
  ticketId: string,
  id: number,
  type: TicketEventType,
): DispatchedTicketEvent {
  return {
    id,
    organizationId,
    ticketId,
    type,
    payload: { ticket: ticketSnapshotFor(ticketId), ...(type === 'ticket.updated' ? { changes: {} } : {}) },
    actor: { type: 'system', id: null },
    createdAt: new Date().toISOString(),
  };
}
