// The webhook activities, run by the `webhooks` task queue worker: turning a ticket event into deliveries, and
// sending an endpoint's due deliveries in batches.
import { randomUUID } from 'node:crypto';
import type { Database } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { Limiter } from '../../common/concurrency.ts';
import type { KeyRing } from '../../common/config.ts';
import type { Logger } from '../../common/logger.ts';
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
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
import { coalescedRounds } from './round-statement.ts';
import { dispatchEndpoints, mergedAnnouncements, wakeEndpoint } from './wake.ts';

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
  /** Batches the dispatcher's groups run at once in this process (200 by default, the queue's activity slots). */
  maxDispatchedBatches?: number;
  logger?: Pick<Logger, 'warn' | 'error'>;
};

/** What a group keeps of its time for what follows its batches: wakes of endpoint workflows, its signals. */
const GROUP_MARGIN_MS = 10_000;
/** How long the dispatcher holds an endpoint whose batch could not start in its group (no slot in time, cancelled). */
const SKIPPED_HOLD_MS = 1_000;

/**
 * Rows (outcomes and claims) a shared round statement takes at most: a few lanes' full claims. A lane's round is at
 * most four windows of its share of the concurrency (200 claims at the largest), with as many outcomes.
 */
const MAX_ROWS_PER_ROUND_STATEMENT = 4_000;

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

  // The dispatcher lives on the same queue as these activities. Announcements made at the same time share a signal,
  // per queue (the queue differs only between test runs).
  const announcers = new Map<string, (target: DispatchTarget) => Promise<void>>();
  const announce = (taskQueue: string, target: DispatchTarget) => {
    let announcer = announcers.get(taskQueue);
    if (!announcer) {
      announcer = mergedAnnouncements((targets) => dispatchEndpoints(temporalClient, targets, { taskQueue }));
      announcers.set(taskQueue, announcer);
    }
    return announcer(target);
  };

  const batchSlots = new Limiter(options.maxDispatchedBatches ?? 200);
  // Every batch of this process, the dispatcher's and the endpoint workflows' alike, shares the round statements.
  const rounds = coalescedRounds(db, {
    inFlight: settings.roundStatementsInFlight,
    maxRows: MAX_ROWS_PER_ROUND_STATEMENT,
    ...(options.logger ? { logger: options.logger } : {}),
  });

  /** What one endpoint's batch needs inside an activity (its own, or the dispatcher's group). */
  const batchDeps = (context: Context, input: DispatchTarget, timeLimitMs?: number): BatchDeps => ({
    db,
    credentialKeys,
    poster,
    timeoutMs: settings.timeoutMs,
    retryCompression: settings.retryCompression,
    rounds,
    leaseMarginMs: options.leaseMarginMs ?? 5_000,
    heartbeat: () => context.heartbeat(),
    signal: context.cancellationSignal,
    // The batch sizes its rounds to end within this; past it Temporal would retry it while it still sends.
    timeLimitMs: timeLimitMs ?? context.info.startToCloseTimeoutMs,
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
      await Promise.all(
        result.toWake.map((endpointId) => announce(taskQueue, { endpointId, organizationId: event.organizationId })),
      );
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
      if (state.endpoint !== 'active') return { endpoint: state.endpoint, dispatched: false, dueInMs: null };
      if (!state.dueNow) return { endpoint: 'active', dispatched: false, dueInMs: state.dueInMs };
      await dispatchEndpoints(temporalClient, [input], { taskQueue: Context.current().info.taskQueue });
      return { endpoint: 'active', dispatched: true, dueInMs: state.dueInMs };
    },

    /**
     * The dispatcher's group: one batch per endpoint, all at once, each with its own concurrency and rate limit, in
     * one activity (one slot, one completion). Per endpoint it reports whether more is due now (the dispatcher runs
     * it again), its receiver asked for a pause, or its batch failed (the dispatcher retries it later); an endpoint
     * left with retries due later goes back to its own workflow, which keeps the timer.
     *
     * An endpoint whose batch ends while others of the group still run is reported at once (a `batchesEnded`
     * signal; those ending while one is in flight share the next), not with the completion: until the dispatcher
     * hears that its batch ended it gives the endpoint no other, so a slow receiver in the group would otherwise hold
     * back a fast one's next batch for as long as its own ran.
     */
    async deliverEndpointBatches(input: DeliverGroupInput): Promise<DispatchOutcome[]> {
      const began = Date.now();
      const context = Context.current();
      const taskQueue = context.info.taskQueue;
      const dispatcher = temporalClient.workflow.getHandle(webhookDispatcherWorkflowId(taskQueue));
      let running = input.endpoints.length;
      const early: DispatchOutcome[] = [];
      const ended = coalesceByKey(async () => {
        const outcomes = early.splice(0);
        if (outcomes.length > 0) await dispatcher.signal(batchesEndedSignal, { group: input.group, outcomes });
      });
      const failed = async (target: DispatchTarget, error: unknown, what: string): Promise<DispatchOutcome> => {
        const kind = errorKind(error);
        // The dispatcher tries it again after a backoff; the others' batches go on. The kind of error goes to the
        // history (the dispatcher's `state` query shows it) and to the endpoint's health on the dashboard; the
        // error itself only to the worker's log.
        options.logger?.error(
          { err: error, endpointId: target.endpointId },
          `${what} failed in the webhook dispatcher; it is tried again after a backoff`,
        );
        await recordIntegrationOutcome(db, target.organizationId, target.endpointId, {
          ok: false,
          error: `${what} failed (${kind}); retrying`,
          at: new Date(),
        }).catch(() => {});
        return { endpointId: target.endpointId, more: false, failed: kind };
      };
      const settle = async (target: DispatchTarget): Promise<DispatchOutcome> => {
        const batch = { ...target, maxBatch: input.maxBatch };
        let result: DeliverBatchResult;
        // A batch's first round runs whatever its time, so one that would start with too little left (it waited for
        // a slot) does not start; nor does one of a cancelled group. Its endpoint is held a moment, then gets a new
        // group, perhaps on a less busy worker.
        const skipped = (): DispatchOutcome =>
          context.cancellationSignal.aborted
            ? { endpointId: target.endpointId, more: true }
            : { endpointId: target.endpointId, more: false, pausedUntil: Date.now() + SKIPPED_HOLD_MS };
        try {
          // Batches of this process at once are bounded, as the activity slots bounded the endpoint workflows'.
          const ran = await batchSlots.run(async () => {
            // Ends in time for what follows it (a wake, a signal), counted from the group's start: a group that
            // outlives its timeout fails, and its endpoints wait for a backoff.
            const timeLeft = context.info.startToCloseTimeoutMs - (Date.now() - began) - GROUP_MARGIN_MS;
            if (timeLeft < minimumBatchMs || context.cancellationSignal.aborted) return null;
            return deliverDueBatch(batchDeps(context, batch, timeLeft), batch);
          }, startBy);
          if (ran === null) return skipped();
          result = ran;
        } catch (error) {
          if (startBy.aborted && error === startBy.reason) return skipped();
          return failed(target, error, 'a delivery batch');
        }
        // Paused by its receiver: the dispatcher holds it until then (a wake of its own workflow would find
        // deliveries due now and announce it straight back).
        if (result.throttledUntil !== undefined)
          return { endpointId: target.endpointId, more: false, pausedUntil: result.throttledUntil };
        const more = result.endpoint === 'active' && result.more;
        if (result.endpoint === 'active' && !more && result.nextDueAt !== null) {
          try {
            await wakeEndpoint(temporalClient, target.endpointId, target.organizationId, { taskQueue });
          } catch (error) {
            // Nobody holds its retry timer yet: the dispatcher's retry of it (a batch that finds nothing due
            // now) hands it back again.
            return failed(target, error, 'waking the endpoint workflow for its retries');
          }
        }
        return { endpointId: target.endpointId, more };
      };
      // The least a batch needs to send one round and record it; a batch waits for a slot only while it could still
      // start with that much time left (or until the group is cancelled).
      const minimumBatchMs = settings.timeoutMs + (options.leaseMarginMs ?? 5_000);
      const budgetMs = context.info.startToCloseTimeoutMs - GROUP_MARGIN_MS - minimumBatchMs;
      if (budgetMs <= 0)
        options.logger?.error(
          { timeoutMs: settings.timeoutMs, groupTimeoutMs: context.info.startToCloseTimeoutMs },
          'SWITCHBOARD_WEBHOOK_TIMEOUT_MS leaves a dispatcher group no time to send: nothing can be delivered',
        );
      const startBy = AbortSignal.any([context.cancellationSignal, AbortSignal.timeout(Math.max(budgetMs, 0))]);
      // Batches waiting for a slot do not heartbeat: the group does, for them.
      const beat = setInterval(() => context.heartbeat(), 1_000);
      try {
        const outcomes = await Promise.all(
          input.endpoints.map(async (target) => {
            const outcome = await settle(target);
            running -= 1;
            // The last ones to end come back with the completion, which follows at once. A group that was
            // cancelled (the dispatcher continuing as new) reports only by completing.
            if (running === 0 || context.cancellationSignal.aborted) return outcome;
            early.push(outcome);
            // A signal that fails leaves the outcome to the completion: the endpoint is then released with it.
            const sent = await ended(input.group).then(
              () => true,
              () => false,
            );
            return sent ? undefined : outcome;
          }),
        );
        return outcomes.filter((o): o is DispatchOutcome => o !== undefined);
      } finally {
        clearInterval(beat);
      }
    },
  };
}

/** An error's name and code (a PostgreSQL SQLSTATE, a Node errno), without its message; each only if it looks like one. */
function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown';
  const name = /^[A-Za-z0-9_]{1,64}$/.test(error.name) ? error.name : 'Error';
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z0-9_]{1,32}$/.test(code) ? `${name} ${code}` : name;
}

export type DeliverGroupInput = {
  /** The dispatcher's name for the group (its run and a number): what its `batchesEnded` signals name. */
  group: string;
  endpoints: DispatchTarget[];
  maxBatch: number;
};

export type DispatchIfDueResult = {
  endpoint: 'active' | 'disabled' | 'deleted';
  /** Deliveries were due now: the endpoint was announced to the dispatcher. */
  dispatched: boolean;
  /** How long until the earliest pending delivery not due yet falls due (a retry, or one under lease), or null. */
  dueInMs: number | null;
};

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
export { dispatchEndpoints, wakeEndpoint } from './wake.ts';
