// What a notification channel is handed: one recipient, one or more notifications (several when it is a digest or a
// batch of immediate ones), already decided. A sender makes the external call(s) and says what became of each item;
// the dispatcher (activities/notifications/send.ts) records it. Nothing here is logged or returned with its text:
// titles and bodies hold user content.
import type { Database } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { ServiceConfig } from '../../../common/integration-settings.ts';
import type { Logger } from '../../../common/logger.ts';

export type NotificationItem = {
  id: number;
  eventType: string;
  severity: 'normal' | 'critical';
  title: string;
  body: string;
  /** The dashboard page it is about (absolute URL), if any. */
  link: string | null;
  ticketId: string | null;
  /** Set on a critical alert that escalates unless acknowledged: the channel offers an "Acknowledge" action. */
  alertId: string | null;
  createdAt: string;
};

export type NotificationRecipientInfo =
  | { kind: 'user'; key: string; userId: string; email: string; name: string | null }
  | { kind: 'customer'; key: string; customerId: string; email: string; name: string | null }
  | { kind: 'slack_channel'; key: string; integrationId: string; channelId: string };

export type OutgoingNotification = {
  organizationId: string;
  recipient: NotificationRecipientInfo;
  /** One message summarising all items (a digest), or one message per item. */
  digest: boolean;
  items: NotificationItem[];
  /** The rule's webhook endpoint (the webhook channel only). */
  webhookEndpointId: string | null;
};

/**
 * Per item: sent, or failed with a reason an admin may read (no secrets, no bodies). A failure the next attempt
 * cannot fix (no email integration, no Slack account for the person) is `permanent`; a transient one is thrown
 * instead, so Temporal retries the activity (items already sent are not sent again: the dispatcher only hands
 * over items still pending).
 */
export type SendOutcome = { id: number; ok: true } | { id: number; ok: false; reason: string; permanent: true };

export type ChannelDeps = {
  db: Database;
  config: ServiceConfig;
  logger: Logger;
  temporal: Client;
  /** The queue the ticket-level workflows run on (other modules' queues derive from it). */
  ticketsTaskQueue: string;
  /** The dashboard's public base URL, for links. */
  publicUrl: string;
};

export type ChannelSender = (deps: ChannelDeps, notification: OutgoingNotification) => Promise<SendOutcome[]>;
