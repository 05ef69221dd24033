// What a notification says about its event, written once per event when it is routed (not per recipient): the
// routing statement copies it into each recipient's row, so the recipient's workflow and its history only ever
// carry row ids. Plain text; each channel escapes it for its own format.
import type { TicketSnapshot } from '../../common/ticket-events.ts';

export type RoutableEvent = {
  /** ticket_events.id, or null for an event that does not come from the outbox (an integration failure). */
  eventId: number | null;
  organizationId: string;
  ticketId: string | null;
  type: string;
  payload: Record<string, unknown>;
  /** The member who caused it, if a member did: they are not notified of their own change. */
  actorUserId: string | null;
  createdAt: string;
  /** What makes two routings the same notification for a recipient: `event:<id>` for ticket events. */
  dedupeKey: string;
  /** Set when this routing is an alert's escalation: nobody acknowledged it within this many minutes. */
  escalatedAfterMinutes?: number;
};

export type RenderedEvent = { title: string; body: string; link: string | null; category: string };

const MAX_BODY = 500;

function clip(text: string, max = MAX_BODY): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function when(iso: unknown): string {
  return typeof iso === 'string' ? `${new Date(iso).toISOString().replace('T', ' ').slice(0, 16)} UTC` : 'unknown';
}

export function categoryOf(type: string): string {
  return type.split('.')[0]!;
}

export function renderEvent(event: RoutableEvent, publicUrl: string): RenderedEvent {
  const rendered = renderOnce(event, publicUrl);
  if (event.escalatedAfterMinutes === undefined) return rendered;
  return {
    ...rendered,
    title: clip(`Escalated: ${rendered.title}`, 200),
    body: clip(`Nobody acknowledged it within ${event.escalatedAfterMinutes} min. ${rendered.body}`),
  };
}

function renderOnce(event: RoutableEvent, publicUrl: string): RenderedEvent {
  const p = event.payload as Record<string, unknown> & { ticket?: TicketSnapshot };
  const t = p.ticket;
  const ref = t ? `#${t.number} ${t.subject}` : '';
  const link = event.ticketId ? new URL(`/tickets/${event.ticketId}`, publicUrl).toString() : null;
  const category = categoryOf(event.type);
  const text = (title: string, body = '') => ({ title: clip(title, 200), body: clip(body), link, category });
  const sla = (p.kind as string | undefined) === 'first_response' ? 'first response' : 'resolution';
  const file = (p.attachment as { fileName?: string } | undefined)?.fileName ?? 'a file';
  switch (event.type) {
    case 'ticket.created':
      return text(`New ticket ${ref}`, t ? `Priority ${t.priority}, from ${t.channel}.` : '');
    case 'ticket.updated':
      return text(`Ticket ${ref} changed`, `Changed: ${Object.keys((p.changes as object) ?? {}).join(', ')}.`);
    case 'ticket.status_changed':
      return text(`Ticket ${ref} is now ${String(p.to)}`, `It was ${String(p.from)}.`);
    case 'ticket.assigned':
      return text(`Ticket ${ref} was ${p.to ? 'assigned' : 'unassigned'}`);
    case 'comment.created': {
      const c = p.comment as { isPublic: boolean; body: string; author: { name: string } };
      return text(`${c.isPublic ? 'New reply' : 'New internal note'} on ${ref}`, `${c.author.name}: ${c.body}`);
    }
    case 'sla.warning':
      return text(`SLA warning on ${ref}`, `The ${sla} is due ${when(p.dueAt)}.`);
    case 'sla.breached':
      return text(`SLA breached on ${ref}`, `The ${sla} was due ${when(p.dueAt)}.`);
    case 'attachment.blocked':
      return text(`File blocked on ${ref}`, `${file} was blocked by the virus scanner.`);
    case 'attachment.failed':
      return text(`File failed on ${ref}`, `${file} could not be processed.`);
    case 'attachment.uploaded':
    case 'attachment.available':
      return text(`New file on ${ref}`, file);
    case 'attachment.deleted':
      return text(`File removed from ${ref}`, file);
    case 'integration.failed':
      return {
        title: clip(`${String(p.label)} is failing`, 200),
        body: clip(String(p.reason ?? '')),
        link: new URL('/settings/integrations', publicUrl).toString(),
        category,
      };
    default:
      return text(`${event.type} on ${ref}`);
  }
}
