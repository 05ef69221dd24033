// A ticket's timeline: its comments and its events in one list by time, each event as a sentence.
// Events that only repeat what another entry already shows (the comment.created of a listed comment,
// the ticket.updated whose only changes have their own status/assignment event) are left out.
import type { Comment, TicketEvent } from './api.ts';
import { formatBytes, formatTime, humanize } from './format.ts';

export type TimelineEntry =
  | { kind: 'comment'; key: string; at: string; comment: Comment }
  | { kind: 'event'; key: string; at: string; event: TicketEvent; label: string; actor: string };

/** Names a user id (a member of the organisation) for display. */
export type NameOf = (userId: string | null) => string;

type Payload = Record<string, unknown>;

function asRecord(value: unknown): Payload {
  return typeof value === 'object' && value !== null ? (value as Payload) : {};
}

function asText(value: unknown): string {
  if (value === null || value === undefined || value === '') return 'none';
  if (Array.isArray(value)) return value.length ? value.map(asText).join(', ') : 'none';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const slaKinds: Record<string, string> = { first_response: 'First response', resolution: 'Resolution' };

// Changes to these fields get their own event (ticket.status_changed, ticket.assigned).
const fieldsWithOwnEvent = new Set(['status', 'assigneeId']);

function describeChange(field: string, from: unknown, to: unknown): string {
  switch (field) {
    case 'priority':
      return `Priority changed ${asText(from)} → ${asText(to)}`;
    case 'subject':
      return `Subject changed to “${asText(to)}”`;
    case 'tags':
      return `Tags changed ${asText(from)} → ${asText(to)}`;
    case 'firstResponseDueAt':
      return `First response due ${to ? formatTime(String(to)) : 'cleared'}`;
    case 'resolutionDueAt':
      return `Resolution due ${to ? formatTime(String(to)) : 'cleared'}`;
    default:
      return `${humanize(field)} changed`;
  }
}

/** “notes.txt” (12 KB): the file an attachment event is about. */
function fileOf(payload: Payload, withSize = false): string {
  const attachment = asRecord(payload.attachment);
  const name = typeof attachment.fileName === 'string' ? `“${attachment.fileName}”` : 'A file';
  const size = typeof attachment.fileSize === 'number' ? ` (${formatBytes(attachment.fileSize)})` : '';
  return withSize ? `${name}${size}` : name;
}

/** The sentence for one event, or null when the timeline shows it some other way. */
export function describeEvent(event: TicketEvent, nameOf: NameOf, commentIds: ReadonlySet<string>): string | null {
  const payload = asRecord(event.payload);
  switch (event.type) {
    case 'ticket.created':
      return 'Ticket created';
    case 'ticket.status_changed':
      return `Status changed ${humanize(asText(payload.from))} → ${humanize(asText(payload.to))}`;
    case 'ticket.assigned': {
      const from = typeof payload.from === 'string' ? payload.from : null;
      const to = typeof payload.to === 'string' ? payload.to : null;
      if (!to) return `Unassigned (was ${nameOf(from)})`;
      if (!from) return `Assigned to ${nameOf(to)}`;
      return `Reassigned from ${nameOf(from)} to ${nameOf(to)}`;
    }
    case 'ticket.updated': {
      const changes = Object.entries(asRecord(payload.changes)).filter(([field]) => !fieldsWithOwnEvent.has(field));
      if (changes.length === 0) return null;
      return changes
        .map(([field, change]) => describeChange(field, asRecord(change).from, asRecord(change).to))
        .join('; ');
    }
    case 'comment.created': {
      const commentId = asRecord(payload.comment).id;
      return typeof commentId === 'string' && commentIds.has(commentId) ? null : 'Comment added';
    }
    case 'sla.warning':
      return `${slaKinds[asText(payload.kind)] ?? 'SLA'} target approaching: due ${formatTime(asText(payload.dueAt))}`;
    case 'sla.breached':
      return `${slaKinds[asText(payload.kind)] ?? 'SLA'} target breached: was due ${formatTime(asText(payload.dueAt))}`;
    case 'attachment.uploaded':
      return `Attached ${fileOf(payload, true).replace(/^A file/, 'a file')}`;
    case 'attachment.available':
      return `${fileOf(payload)} passed the virus scan`;
    case 'attachment.blocked':
      return `${fileOf(payload)} blocked: malware detected (${asText(payload.signature)})`;
    case 'attachment.failed':
      return `${fileOf(payload)} could not be stored: ${asText(payload.reason)}`;
    case 'attachment.deleted':
      return `Deleted ${fileOf(payload).replace(/^A file$/, 'a file')}`;
    default:
      return `Event ${event.type}`;
  }
}

export function describeActor(actor: TicketEvent['actor'], nameOf: NameOf): string {
  switch (actor.type) {
    case 'user':
      return nameOf(actor.id);
    case 'api_key':
      return 'an API key';
    case 'customer':
      return 'the customer';
    case 'integration':
      return actor.name ?? 'an integration';
    default:
      return 'Switchboard';
  }
}

/** Oldest first; with `since` (ms), only what happened from then on (see timeline-pages.ts). */
export function buildTimeline(
  comments: Comment[],
  events: TicketEvent[],
  nameOf: NameOf,
  since: number | null = null,
): TimelineEntry[] {
  const commentIds = new Set(comments.map((c) => c.id));
  const entries: TimelineEntry[] = comments.map((comment) => ({
    kind: 'comment',
    key: `comment-${comment.id}`,
    at: comment.createdAt,
    comment,
  }));
  for (const event of events) {
    const label = describeEvent(event, nameOf, commentIds);
    if (label === null) continue;
    entries.push({
      kind: 'event',
      key: `event-${event.id}`,
      at: event.createdAt,
      event,
      label,
      actor: describeActor(event.actor, nameOf),
    });
  }
  // Oldest first; at the same instant an event (e.g. "Ticket created") reads before a comment.
  return entries
    .filter((entry) => since === null || Date.parse(entry.at) >= since)
    .sort((a, b) => {
      const byTime = Date.parse(a.at) - Date.parse(b.at);
      if (byTime !== 0) return byTime;
      if (a.kind !== b.kind) return a.kind === 'event' ? -1 : 1;
      return a.key.localeCompare(b.key, undefined, { numeric: true });
    });
}
