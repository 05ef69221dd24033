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
import type { DispatchOutcome } from '../../workflows/webhook-dispatcher-plan.ts';
import {
  batchesEndedSignal,
  type DispatchTarget,
  webhookDispatcherWorkflowId,
} from '../../workflows/webhook-endpoint-contract.ts';
import { createSafePoster, type SafePoster } from '../http/safe-post.ts';
import { coalesceByKey } from './coalesce.ts';
import {
  type BatchDeps,
  type DeliverBatchInput,
  type DeliverBatchResult,
  deliverDueBatch,
  endpointDueState,
} from './deliver-batch.ts';
import { listenForDeliveries } from './delivery-notifications.ts';
import { type EnqueueResult, enqueueDeliveries } from './enqueue.ts';
import { dispatchEndpoints, wakeEndpoint } from './wake.ts';

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

  // The dispatcher lives on the same queue as these activities. Announcements are merged per endpoint and queue:
  // the id of an endpoint is unique, the queue differs only between test runs.
  const wake = coalesceByKey((key) => {
    const [endpointId, organizationId, taskQueue] = key.split('|') as [string, string, string];
    return dispatchEndpoints(temporalClient, [{ endpointId, organizationId }], { taskQueue });
  });

  /** What one endpoint's batch needs inside an activity (its own, or the dispatcher's group). */
  const batchDeps = (context: Context, input: DispatchTarget): BatchDeps => ({
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
            // Deliveries announced to a batch that stopped before it looked for them (cancelled, superseded).
            wake: () => dispatchEndpoints(temporalClient, [input], { taskQueue: context.info.taskQueue }),
          },
        }
      : {}),
  });

  return {
    /** Idempotent: retried after a crash it finds its message and deliveries and only announces the endpoints again. */
    async enqueueWebhookDeliveries(event: DispatchedTicketEvent): Promise<EnqueueResult> {
      const result = await enqueueDeliveries(db, event, settings.payloadLimitBytes);
      const taskQueue = Context.current().info.taskQueue;
      await Promise.all(result.toWake.map((id) => wake(`${id}|${event.organizationId}|${taskQueue}`)));
      return result;
    },

    async deliverDueBatch(input: DeliverBatchInput): Promise<DeliverBatchResult> {
      const context = Context.current();
      return deliverDueBatch(batchDeps(context, input), input);
    },

    /**
     * The endpoint workflow's turn (its retry timer fired, or it was woken): hands the endpoint to the dispatcher when
     * deliveries are due now, else says when the next falls due. Retried, it at most announces the endpoint twice.
     */
    async dispatchIfDue(input: DispatchTarget): Promise<DispatchIfDueResult> {
      const state = await endpointDueState(db, input);
      if (state.endpoint !== 'active') return { endpoint: state.endpoint, dispatched: false, nextDueAt: null };
      if (!state.dueNow) return { endpoint: 'active', dispatched: false, nextDueAt: state.nextDueAt };
      await dispatchEndpoints(temporalClient, [input], { taskQueue: Context.current().info.taskQueue });
      return { endpoint: 'active', dispatched: true, nextDueAt: state.nextDueAt };
    },

    /**
     * The dispatcher's group: one batch per endpoint, all at once, each with its own concurrency and rate limit, in
     * one activity (one slot, one completion). Per endpoint it reports whether more is due now (the dispatcher runs
     * it again), its receiver asked for a pause, or its batch failed (the dispatcher retries it later); an endpoint
     * left with retries due later goes back to its own workflow, which keeps the timer.
     *
     * An endpoint whose batch ends while others of the group still run is reported at once (a `batchesEnded`
     * signal, merged over RELEASE_MERGE_MS), not with the completion: until the dispatcher hears that its batch
     * ended it gives the endpoint no other, so a slow receiver in the group would otherwise hold back a fast one's
     * next batch for as long as its own ran.
     */
    async deliverEndpointBatches(input: DeliverGroupInput): Promise<DispatchOutcome[]> {
      const context = Context.current();
      const taskQueue = context.info.taskQueue;
      const handBack = (target: DispatchTarget) =>
        wakeEndpoint(temporalClient, target.endpointId, target.organizationId, { taskQueue });
      const dispatcher = temporalClient.workflow.getHandle(webhookDispatcherWorkflowId(taskQueue));
      let left = input.endpoints.length;
      const early: DispatchOutcome[] = [];
      const ended = coalesceByKey(async () => {
        const outcomes = early.splice(0);
        if (outcomes.length > 0) await dispatcher.signal(batchesEndedSignal, { group: input.group, outcomes });
      });
      const settle = async (target: DispatchTarget): Promise<DispatchOutcome> => {
        const batch = { ...target, maxBatch: input.maxBatch };
        let result: DeliverBatchResult;
        try {
          result = await deliverDueBatch(batchDeps(context, batch), batch);
        } catch (error) {
          // The dispatcher tries it again after a backoff; the others' batches go on. The kind of error goes to
          // the history (the dispatcher's `state` query shows it), the error itself only to the worker's log.
          options.logger?.warn(
            { err: error, endpointId: target.endpointId },
            'a webhook batch failed in the dispatcher; it is tried again after a backoff',
          );
          return { endpointId: target.endpointId, more: false, failed: errorKind(error) };
        }
        // Paused by its receiver: the dispatcher holds it until then (a wake of its own workflow would find
        // deliveries due now and announce it straight back).
        if (result.throttledUntil !== undefined)
          return { endpointId: target.endpointId, more: false, pausedUntil: result.throttledUntil };
        const more = result.endpoint === 'active' && result.more;
        if (result.endpoint === 'active' && !more && result.nextDueAt !== null) await handBack(target);
        return { endpointId: target.endpointId, more };
      };
      const outcomes = await Promise.all(
        input.endpoints.map(async (target) => {
          const outcome = await settle(target);
          left -= 1;
          // The last ones to end come back with the completion, which follows at once.
          if (left === 0 || context.cancellationSignal.aborted) return outcome;
          early.push(outcome);
          // A signal that fails leaves the outcome to the completion: the endpoint is then released with it.
          const sent = await ended(String(input.group)).then(
            () => true,
            () => false,
          );
          return sent ? undefined : outcome;
        }),
      );
      return outcomes.filter((o): o is DispatchOutcome => o !== undefined);
    },
  };
}

/** An error's name and code (a PostgreSQL SQLSTATE, a Node errno), without its message. */
function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? `${error.name} ${code}` : error.name;
}

export type DeliverGroupInput = {
  /** The dispatcher's number for the group: what its `batchesEnded` signals name. */
  group: number;
  endpoints: DispatchTarget[];
  maxBatch: number;
};

export type DispatchIfDueResult = {
  endpoint: 'active' | 'disabled' | 'deleted';
  /** Deliveries were due now: the endpoint was announced to the dispatcher. */
  dispatched: boolean;
  /** Epoch ms of the earliest pending delivery not due yet (a retry, or one under lease), or null when none. */
  nextDueAt: number | null;
};

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
export { dispatchEndpoints, wakeEndpoint } from './wake.ts';
