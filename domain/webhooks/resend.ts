// Sending again: a test event, one delivery, or every failed delivery since a time. Each only puts deliveries back
// in the queue (pending, due now); the endpoint workflow sends them, through the same path, signing and retry
// schedule as any other delivery, with the same webhook-id as before. The caller then wakes that workflow.
import { type Database, webhookAttempts, webhookDeliveries, webhookMessages } from '@switchboard/database';
import { and, eq, gte, sql } from 'drizzle-orm';
import { webhookBody } from '../../activities/webhooks/enqueue.ts';
import { newMessageId } from '../../activities/webhooks/message-id.ts';
import { conflict } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { loadDelivery, toDeliveryView } from './deliveries.ts';
import { type EndpointRow, loadEndpointRow } from './endpoint-record.ts';
import { WEBHOOK_TEST_EVENT } from './event-catalogue.ts';
import { type ResendFailedInput, resendFailedInput, type WebhookDeliveryView } from './schemas.ts';

/** A disabled endpoint's workflow sends nothing, so queueing for it would only look like it worked. */
function assertEnabled(endpoint: EndpointRow): void {
  if (!endpoint.isActive || endpoint.disabledReason)
    throw conflict(
      `the endpoint is disabled${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}; enable it first`,
    );
}

/**
 * An event over the payload limit was refused at the source: its message keeps no body (data is null) and its one
 * attempt says payload_too_large. Sending it again would deliver an empty event under the real event's id.
 */
const refusedAtSource = (deliveryId: typeof webhookDeliveries.id) =>
  sql`exists (select 1 from ${webhookAttempts} where ${webhookAttempts.deliveryId} = ${deliveryId} and ${webhookAttempts.errorClass} = ${PAYLOAD_TOO_LARGE})`;
const PAYLOAD_TOO_LARGE = 'payload_too_large';

export type QueuedTest = { messageId: string; deliveryId: string };

/** A `webhook.test` message for this endpoint only, whatever event types it subscribes to. */
export async function sendTestEvent(
  db: Database,
  scope: Scope,
  endpointId: string,
  now = new Date(),
): Promise<QueuedTest> {
  return db.transaction(async (tx) => {
    assertEnabled(await loadEndpointRow(tx, scope, endpointId));
    const messageId = newMessageId(now.getTime());
    await tx.insert(webhookMessages).values({
      id: messageId,
      organizationId: scope.organizationId,
      eventType: WEBHOOK_TEST_EVENT,
      payload: webhookBody(WEBHOOK_TEST_EVENT, now.toISOString(), {
        endpointId,
        message: 'A test event from Switchboard: your endpoint is reachable and can verify our signature.',
      }),
    });
    const [delivery] = await tx
      .insert(webhookDeliveries)
      .values({ organizationId: scope.organizationId, endpointId, messageId, status: 'pending', nextAttemptAt: now })
      .returning({ id: webhookDeliveries.id });
    await recordAudit(tx, scope, {
      action: 'webhook.test_sent',
      entityType: 'integration',
      entityId: endpointId,
      metadata: { messageId },
    });
    return { messageId, deliveryId: delivery!.id };
  });
}

/**
 * Due again now, whatever its status. Its attempts so far stay in the log and the next one is numbered after them.
 * If a batch is sending it at this moment, that attempt's outcome may overwrite this reset (at-least-once).
 */
export async function resendDelivery(db: Database, scope: Scope, deliveryId: string): Promise<WebhookDeliveryView> {
  return db.transaction(async (tx) => {
    const current = await loadDelivery(tx, scope, deliveryId);
    assertEnabled(await loadEndpointRow(tx, scope, current.delivery.endpointId));
    const [refused] = await tx
      .select({ id: webhookAttempts.id })
      .from(webhookAttempts)
      .where(and(eq(webhookAttempts.deliveryId, deliveryId), eq(webhookAttempts.errorClass, PAYLOAD_TOO_LARGE)))
      .limit(1);
    if (refused)
      throw conflict('this event was over the payload limit and was never stored in full, so it cannot be sent');
    const [delivery] = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending', nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.organizationId, scope.organizationId)))
      .returning();
    await recordAudit(tx, scope, {
      action: 'webhook.delivery_resent',
      entityType: 'integration',
      entityId: current.delivery.endpointId,
      metadata: { deliveryId, messageId: current.delivery.messageId, previousStatus: current.delivery.status },
    });
    return toDeliveryView({ delivery: delivery!, eventType: current.eventType, ticketId: current.ticketId });
  });
}

/** Every failed delivery of the endpoint created at or after `since`, due again now. */
export async function resendFailedDeliveries(
  db: Database,
  scope: Scope,
  endpointId: string,
  rawInput: ResendFailedInput,
): Promise<{ count: number }> {
  const input = parseInput(resendFailedInput, rawInput);
  return db.transaction(async (tx) => {
    assertEnabled(await loadEndpointRow(tx, scope, endpointId));
    const resent = await tx
      .update(webhookDeliveries)
      .set({ status: 'pending', nextAttemptAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          eq(webhookDeliveries.organizationId, scope.organizationId),
          eq(webhookDeliveries.endpointId, endpointId),
          eq(webhookDeliveries.status, 'failed'),
          gte(webhookDeliveries.createdAt, new Date(input.since)),
          sql`not ${refusedAtSource(webhookDeliveries.id)}`,
        ),
      );
    // Counted, not returned: a resend of thousands would otherwise carry every id back to be counted here.
    const count = resent.rowCount ?? 0;
    if (count > 0)
      await recordAudit(tx, scope, {
        action: 'webhook.failed_resent',
        entityType: 'integration',
        entityId: endpointId,
        metadata: { since: input.since, count },
      });
    return { count };
  });
}
