// Whether a webhook endpoint wants a ticket event: it subscribes to the event's type, and the event is not an
// internal note (a comment.created of a comment with isPublic false) while the endpoint excludes those. One rule,
// in two forms that must agree (a test runs both over the same cases): a function for code that holds an
// endpoint's config, and an SQL condition for the fan-out that picks endpoints for a batch of events in one query.
import { type SQL, sql } from 'drizzle-orm';

export type EndpointSubscription = { eventTypes?: unknown; excludeInternalNotes?: unknown };
export type WebhookCandidateEvent = { type: string; payload: unknown };

function isInternalNote(event: WebhookCandidateEvent): boolean {
  if (event.type !== 'comment.created') return false;
  const comment = (event.payload as { comment?: { isPublic?: unknown } } | null)?.comment;
  return comment?.isPublic === false;
}

export function endpointWantsEvent(config: EndpointSubscription, event: WebhookCandidateEvent): boolean {
  const subscribed = Array.isArray(config.eventTypes) && config.eventTypes.includes(event.type);
  return subscribed && !(config.excludeInternalNotes === true && isInternalNote(event));
}

/**
 * The same rule as an SQL condition over an endpoint's config (jsonb, integration_configs.config), an event's type
 * (text) and its payload (jsonb, ticket_events.payload): e.g.
 * `endpointWantsEventSql(sql`c.config`, sql`e.type`, sql`e.payload`)` in the WHERE of a join of the organisation's
 * active webhook endpoints with the batch's events.
 */
export function endpointWantsEventSql(config: SQL, type: SQL, payload: SQL): SQL {
  return sql`(
    jsonb_typeof(${config} -> 'eventTypes') = 'array'
    and (${config} -> 'eventTypes') ? (${type})::text
    and not coalesce(
      (${config} -> 'excludeInternalNotes') = 'true'::jsonb
      and (${type})::text = 'comment.created'
      and (${payload} -> 'comment' -> 'isPublic') = 'false'::jsonb,
      false
    )
  )`;
}
