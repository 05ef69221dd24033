// The webhook activities, run by the `webhooks` task queue worker: turning a ticket event into deliveries, and
// sending an endpoint's due deliveries in batches.
import { randomUUID } from 'node:crypto';
import type { Database } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { KeyRing } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import type { WebhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { createSafePoster, type SafePoster } from '../http/safe-post.ts';
import { coalesceByKey } from './coalesce.ts';
import { type DeliverBatchInput, type DeliverBatchResult, deliverDueBatch } from './deliver-batch.ts';
import { listenForDeliveries } from './delivery-notifications.ts';
import { type EnqueueResult, enqueueDeliveries } from './enqueue.ts';
import { wakeEndpoint } from './wake.ts';

export type WebhookActivitiesOptions = {
  db: Database;
  credentialKeys: KeyRing;
  /** The webhooks module's settings (packages/integrations/webhooks/settings.ts). */
  settings: WebhookSettings;
  temporalClient: Client;
  /** Defaults to a keep-alive poster built from the settings (SSRF policy, timeout, payload limit). */
  poster?: SafePoster;
  /** Slack added to a batch's lease beyond its worst-case duration (default 5 s). */
  leaseMarginMs?: number;
  /**
   * Instead of the settings' listenQuietMs: how long a batch that had work keeps listening for more before it ends
   * (NOTIFY from the relay's fan-out instead of a wake through Temporal), and how often it looks anyway; `false`
   * ends every batch once its deliveries run out.
   */
  listen?: { quietMs: number; pollMs: number } | false;
  /** Batches of this process that may listen at once (a quarter of the queue's activity slots by default). */
  maxListeningBatches?: number;
  logger?: Pick<Logger, 'warn'>;
};

/** A listening batch looks for due deliveries this often even without a notification (retries falling due, a lost session). */
const LISTEN_POLL_MS = 1_000;

export function createWebhookActivities(options: WebhookActivitiesOptions) {
  const { db, credentialKeys, settings, temporalClient } = options;
  const poster =
    options.poster ??
    createSafePoster({
      allowHttp: settings.allowHttp,
      allowCidrs: settings.allowCidrs,
      timeoutMs: settings.timeoutMs,
      maxPayloadBytes: settings.payloadLimitBytes,
    });

  const listen =
    options.listen ??
    (settings.listenQuietMs > 0 ? { quietMs: settings.listenQuietMs, pollMs: LISTEN_POLL_MS } : false);
  const notifications = listen
    ? listenForDeliveries(db.$client, {
        maxListeners: options.maxListeningBatches ?? 50,
        ...(options.logger ? { logger: options.logger } : {}),
      })
    : undefined;

  // Endpoint workflows live on the same queue as these activities, next to the activities that feed them. Wakes are
  // merged per endpoint and queue: the id of an endpoint is unique, the queue differs only between test runs.
  const wake = coalesceByKey((key) => {
    const [endpointId, organizationId, taskQueue] = key.split('|') as [string, string, string];
    return wakeEndpoint(temporalClient, endpointId, organizationId, { taskQueue });
  });

  return {
    /** Idempotent: retried after a crash it finds its message and deliveries and only wakes the endpoints again. */
    async enqueueWebhookDeliveries(event: DispatchedTicketEvent): Promise<EnqueueResult> {
      const result = await enqueueDeliveries(db, event, settings.payloadLimitBytes);
      const taskQueue = Context.current().info.taskQueue;
      await Promise.all(result.toWake.map((id) => wake(`${id}|${event.organizationId}|${taskQueue}`)));
      return result;
    },

    async deliverDueBatch(input: DeliverBatchInput): Promise<DeliverBatchResult> {
      const context = Context.current();
      return deliverDueBatch(
        {
          db,
          credentialKeys,
          poster,
          timeoutMs: settings.timeoutMs,
          retryCompression: settings.retryCompression,
          leaseMarginMs: options.leaseMarginMs ?? 5_000,
          heartbeat: () => context.heartbeat(),
          signal: context.cancellationSignal,
          // The batch sizes its rounds to end within this; past it Temporal would retry it while it still sends.
          timeLimitMs: context.info.startToCloseTimeoutMs,
          ...(listen && notifications
            ? {
                listen: {
                  notifications,
                  ...listen,
                  owner: randomUUID(),
                  wake: () =>
                    wakeEndpoint(temporalClient, input.endpointId, input.organizationId, {
                      taskQueue: context.info.taskQueue,
                    }),
                },
              }
            : {}),
        },
        input,
      );
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
export { wakeEndpoint } from './wake.ts';
