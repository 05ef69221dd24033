// From a ticket event to pending deliveries: one message per event (its webhook-id), one delivery per enabled
// endpoint of the organisation subscribed to the type. Idempotent, so the activity can be retried freely: the
// message is keyed by the event id, a delivery by (message, endpoint).
import {
  type Database,
  integrationConfigs,
  webhookAttempts,
  webhookDeliveries,
  webhookMessages,
} from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import { type EndpointConfigFields, subscribedTypes } from './endpoint.ts';
import { newMessageId } from './message-id.ts';

/** The body every endpoint receives, as Standard Webhooks recommends: the type, when it happened, the payload. */
export function webhookBody(type: string, timestamp: string, data: unknown) {
  return { type, timestamp, data };
}

export type EnqueueResult = {
  messageId: string | null;
  /** Endpoints that got a pending delivery (and must be woken). */
  endpointIds: string[];
  /** Set when the payload was over the limit: no delivery was made, each endpoint has a failed one saying why. */
  refused?: string;
};

export async function enqueueDeliveries(
  db: Database,
  event: DispatchedTicketEvent,
  payloadLimitBytes: number,
): Promise<EnqueueResult> {
  const endpoints = await db
    .select({ id: integrationConfigs.id, config: integrationConfigs.config })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.organizationId, event.organizationId),
        eq(integrationConfigs.integrationType, 'webhook'),
        eq(integrationConfigs.isActive, true),
      ),
    );
  const subscribed = endpoints.filter((e) => subscribedTypes(e.config as EndpointConfigFields).includes(event.type));
  if (subscribed.length === 0) return { messageId: null, endpointIds: [] };

  const body = webhookBody(event.type, event.createdAt, event.payload);
  const size = Buffer.byteLength(JSON.stringify(body));
  const refused =
    size > payloadLimitBytes
      ? `payload is ${size} bytes, over the ${payloadLimitBytes}-byte limit: not sent`
      : undefined;

  return db.transaction(async (tx) => {
    await tx
      .insert(webhookMessages)
      .values({
        id: newMessageId(),
        organizationId: event.organizationId,
        eventId: event.id,
        ticketId: event.ticketId,
        eventType: event.type,
        // An oversized body is not kept: the ticket event still holds it, and storing it would be the cost we refuse.
        payload: refused ? webhookBody(event.type, event.createdAt, null) : body,
      })
      .onConflictDoNothing({ target: webhookMessages.eventId, where: sql`${webhookMessages.eventId} is not null` });
    const [message] = await tx
      .select({ id: webhookMessages.id })
      .from(webhookMessages)
      .where(eq(webhookMessages.eventId, event.id));
    const messageId = message!.id;
    const now = new Date();
    const inserted = await tx
      .insert(webhookDeliveries)
      .values(
        subscribed.map((e) => ({
          organizationId: event.organizationId,
          endpointId: e.id,
          messageId,
          status: refused ? ('failed' as const) : ('pending' as const),
          nextAttemptAt: refused ? null : now,
        })),
      )
      .onConflictDoNothing({ target: [webhookDeliveries.messageId, webhookDeliveries.endpointId] })
      .returning({ id: webhookDeliveries.id, endpointId: webhookDeliveries.endpointId });
    if (refused) {
      if (inserted.length > 0) {
        await tx.insert(webhookAttempts).values(
          inserted.map((d) => ({
            organizationId: event.organizationId,
            deliveryId: d.id,
            endpointId: d.endpointId,
            attemptNumber: 0,
            startedAt: now,
            durationMs: 0,
            errorClass: 'payload_too_large',
            responseExcerpt: refused,
            outcome: 'failed',
          })),
        );
      }
      return { messageId, endpointIds: [], refused };
    }
    // A retry of this activity finds its deliveries already there; waking their endpoints again is harmless.
    return { messageId, endpointIds: subscribed.map((e) => e.id) };
  });
}
