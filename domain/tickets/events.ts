import { appendTicketEvent, type Executor } from '@switchboard/database';
import { type TicketEventPayload, type TicketEventType, ticketEventPayloads } from '../../common/ticket-events.ts';
import type { Scope } from '../scope.ts';

/**
 * Appends one event to the ticket's outbox/timeline. The payload is checked against the catalogue
 * first: a payload that breaks its schema would fail in every subscriber, so it must fail here, inside
 * the transaction, and take the change down with it. Call only after the ticket row is locked.
 */
export async function emitTicketEvent<T extends TicketEventType>(
  tx: Executor,
  scope: Scope,
  ticketId: string,
  type: T,
  payload: TicketEventPayload<T>,
) {
  const checked = ticketEventPayloads[type].parse(payload);
  return appendTicketEvent(tx, {
    organizationId: scope.organizationId,
    supportRequestId: ticketId,
    type,
    payload: checked,
    actorType: scope.actor.type,
    actorId: scope.actor.id,
  });
}
