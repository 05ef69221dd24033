// What a ticket event means for the ticket's SLA watch, decided from the event alone (its ticket snapshot), so the
// outbox relay can tell without a database read or a Temporal call whether the watch wants it.
import type { DispatchedTicketEvent, TicketSnapshot } from '../common/ticket-events.ts';

/** Share of a ticket's SLA window after which `sla.warning` fires, unless the deployment sets another. */
export const DEFAULT_SLA_WARNING_SHARE = 0.75;

/**
 * `start`: the ticket has an open deadline, so the watch must run (started, or told to re-read if it runs);
 * `nudge`: a deadline may have moved or ended, so a running watch re-reads (none is started); null: nothing to do.
 * `ticket.updated` accompanies every change of a ticket's fields, so status changes need no separate type.
 */
export function slaInterest(event: DispatchedTicketEvent): 'start' | 'nudge' | null {
  if (event.type !== 'ticket.created' && event.type !== 'ticket.updated' && event.type !== 'comment.created') {
    return null;
  }
  const ticket = (event.payload as { ticket?: TicketSnapshot } | null)?.ticket;
  if (!ticket) return null;
  if (hasOpenDeadline(ticket)) {
    // A comment only matters while a first response is awaited; the watch re-reads whether it was one.
    if (event.type === 'comment.created' && ticket.firstResponseDueAt === null) return null;
    return 'start';
  }
  return event.type === 'ticket.updated' && touchesDeadlines(event) ? 'nudge' : null;
}

/** The strongest interest of several events of one ticket: one signal covers them all. */
export function slaInterestOf(events: readonly DispatchedTicketEvent[]): 'start' | 'nudge' | null {
  let interest: 'start' | 'nudge' | null = null;
  for (const event of events) {
    const one = slaInterest(event);
    if (one === 'start') return 'start';
    interest ??= one;
  }
  return interest;
}

export function hasOpenDeadline(ticket: TicketSnapshot): boolean {
  const open = ticket.status !== 'solved' && ticket.status !== 'closed';
  return open && (ticket.firstResponseDueAt !== null || ticket.resolutionDueAt !== null);
}

function touchesDeadlines(event: DispatchedTicketEvent): boolean {
  const changes = (event.payload as { changes?: Record<string, unknown> }).changes ?? {};
  return ['status', 'firstResponseDueAt', 'resolutionDueAt'].some((field) => field in changes);
}
