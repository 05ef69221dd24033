// The webhook channel: a notification becomes a message of the webhook module (type `notification`, or one
// `notification.digest` for a digest) with a pending delivery to the rule's endpoint, then an announcement of that endpoint to
// the webhook dispatcher. Signing, throttling, retries and the delivery log are the endpoint's, as for ticket events.
//
// Idempotent: the message id is derived from the notification (`msg_notif_<id>`, `msg_notif_digest_<lowest id>`),
// and both inserts do nothing on conflict, so an activity retry (or the same items handed over again) makes no
// second message or delivery, and the receiver sees one webhook-id.
//
// The body text goes out. The endpoint is the organisation's own integration, which already receives ticket events
// with comment bodies in full; a notification's body is a short rendering of the same (render.ts), and without it a
// receiver relaying notifications into a chat tool would have to call the API back for the words.
import { integrationConfigs, webhookDeliveries, webhookMessages } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import { webhookSettings } from '../../../packages/integrations/webhooks/settings.ts';
import { webhooksTaskQueueFor } from '../../../workflows/webhook-endpoint-contract.ts';
import { DELIVERIES_CHANNEL } from '../../webhooks/delivery-notifications.ts';
import { webhookBody } from '../../webhooks/enqueue.ts';
import { dispatchEndpoints } from '../../webhooks/wake.ts';
import type {
  ChannelSender,
  NotificationItem,
  NotificationRecipientInfo,
  OutgoingNotification,
  SendOutcome,
} from './types.ts';

export const NOTIFICATION_WEBHOOK_TYPE = 'notification';
export const NOTIFICATION_DIGEST_WEBHOOK_TYPE = 'notification.digest';

export function notificationMessageId(notification: Pick<OutgoingNotification, 'digest' | 'items'>, index = 0) {
  return notification.digest
    ? `msg_notif_digest_${Math.min(...notification.items.map((i) => i.id))}`
    : `msg_notif_${notification.items[index]!.id}`;
}

export const sendWebhookNotification: ChannelSender = async (deps, notification) => {
  const { items, organizationId, webhookEndpointId } = notification;
  if (items.length === 0) return [];
  const failAll = (reason: string): SendOutcome[] =>
    items.map((item) => ({ id: item.id, ok: false, reason, permanent: true }));
  if (!webhookEndpointId) return failAll('the rule names no webhook endpoint');
  // The organisation's own endpoint only: another organisation's id is as good as none.
  const [endpoint] = await deps.db
    .select({ isActive: integrationConfigs.isActive, disabledReason: integrationConfigs.disabledReason })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.id, webhookEndpointId),
        eq(integrationConfigs.organizationId, organizationId),
        eq(integrationConfigs.integrationType, 'webhook'),
      ),
    );
  if (!endpoint) return failAll('the webhook endpoint of this rule was deleted');
  if (!endpoint.isActive || endpoint.disabledReason)
    return failAll(
      `the webhook endpoint is switched off${endpoint.disabledReason ? ` (${endpoint.disabledReason})` : ''}`,
    );

  const recipient = recipientData(notification.recipient);
  const now = new Date().toISOString();
  const planned = notification.digest
    ? [
        {
          ids: items.map((i) => i.id),
          id: notificationMessageId(notification),
          ticketId: sameTicket(items),
          type: NOTIFICATION_DIGEST_WEBHOOK_TYPE,
          body: webhookBody(NOTIFICATION_DIGEST_WEBHOOK_TYPE, now, {
            recipient,
            count: items.length,
            items: items.map(itemData),
          }),
        },
      ]
    : items.map((item, index) => ({
        ids: [item.id],
        id: notificationMessageId(notification, index),
        ticketId: item.ticketId,
        type: NOTIFICATION_WEBHOOK_TYPE,
        body: webhookBody(NOTIFICATION_WEBHOOK_TYPE, item.createdAt, { recipient, ...itemData(item) }),
      }));

  const limit = webhookSettings.of(deps.config).payloadLimitBytes;
  const outcomes: SendOutcome[] = [];
  const sendable: typeof planned = [];
  for (const message of planned) {
    const size = Buffer.byteLength(JSON.stringify(message.body));
    if (size > limit) {
      const reason = `the notification is ${size} bytes, over the endpoint's ${limit}-byte limit: not sent`;
      for (const id of message.ids) outcomes.push({ id, ok: false, reason, permanent: true });
    } else sendable.push(message);
  }
  if (sendable.length === 0) return outcomes;

  const listening = await deps.db.transaction(async (tx) => {
    await tx
      .insert(webhookMessages)
      .values(
        sendable.map((m) => ({
          id: m.id,
          organizationId,
          ticketId: m.ticketId,
          eventType: m.type,
          payload: m.body,
        })),
      )
      .onConflictDoNothing({ target: webhookMessages.id });
    await tx
      .insert(webhookDeliveries)
      .values(
        sendable.map((m) => ({
          organizationId,
          endpointId: webhookEndpointId,
          messageId: m.id,
          status: 'pending' as const,
          nextAttemptAt: sql`now()`,
        })),
      )
      .onConflictDoNothing({ target: [webhookDeliveries.messageId, webhookDeliveries.endpointId] });
    // A batch that is listening hears of them from this NOTIFY at commit and needs no wake (as the relay's fan-out).
    const rows = await tx.execute<{ endpoint_id: string }>(sql`
      select endpoint_id, pg_notify(${DELIVERIES_CHANNEL}, endpoint_id::text) from webhook_endpoint_listeners
      where endpoint_id = ${webhookEndpointId} and listening_until > clock_timestamp()
      for share`);
    return rows.rows.length > 0;
  });
  // The deliveries are stored: a failed announcement throws, and the retry finds them there and announces again.
  if (!listening)
    await dispatchEndpoints(deps.temporal, [{ endpointId: webhookEndpointId, organizationId }], {
      taskQueue: webhooksTaskQueueFor(deps.ticketsTaskQueue),
    });
  for (const message of sendable) for (const id of message.ids) outcomes.push({ id, ok: true });
  return outcomes;
};

function sameTicket(items: NotificationItem[]): string | null {
  const first = items[0]?.ticketId ?? null;
  return items.every((i) => i.ticketId === first) ? first : null;
}

function recipientData(recipient: NotificationRecipientInfo) {
  switch (recipient.kind) {
    case 'user':
      return { kind: 'user', userId: recipient.userId, email: recipient.email, name: recipient.name };
    case 'customer':
      return { kind: 'customer', customerId: recipient.customerId, email: recipient.email, name: recipient.name };
    case 'slack_channel':
      return { kind: 'slack_channel', integrationId: recipient.integrationId, channelId: recipient.channelId };
  }
}

function itemData(item: NotificationItem) {
  return {
    notificationId: item.id,
    eventType: item.eventType,
    severity: item.severity,
    title: item.title,
    body: item.body,
    link: item.link,
    ticketId: item.ticketId,
    alertId: item.alertId,
    createdAt: item.createdAt,
  };
}
