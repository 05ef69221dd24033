// The delivery loop of one webhook endpoint (`webhook-endpoint/<endpointId>`). PostgreSQL is the queue, and the
// loop holds the endpoint's retry timer: it sleeps until its next delivery falls due (or a `wake` says something
// changed), then hands the endpoint to the webhook dispatcher (workflows/webhook-dispatcher.ts), which runs its batch
// with the other endpoints' and hands it back here when retries are left for later. So every batch of an endpoint
// runs in the dispatcher, one at a time, whoever announced it. History grows per retry wait, not per delivery, and
// is cut by continuing as new.
//
// Runs started before the dispatcher (no `webhook-dispatcher` marker) keep their old loop: each iteration runs one
// batch activity itself, then sleeps until the next delivery falls due or a wake.
import { condition, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks/index.ts';
import { ticketEventTypes } from '../common/enums.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import type { Subscription } from './registry.ts';
import { type WebhookEndpointInput, wakeSignal, webhooksTaskQueueFor } from './webhook-endpoint-contract.ts';

/**
 * Deliveries per batch activity. The batch sends them in rounds of the endpoint's concurrency within its time limit,
 * so this only sets how often the loop comes back to Temporal: each batch costs a few history events and workflow
 * and activity tasks, which at 200 per batch were a fifth of the delivery engine's CPU. Only the activity's input
 * changes with it, so histories recorded with 200 replay.
 */
export const DEFAULT_MAX_BATCH = 1000;
export const DEFAULT_BATCHES_PER_RUN = 500;
/** An endpoint with nothing pending keeps its workflow this long, then lets it end until the next wake. */
export const DEFAULT_IDLE_MS = 15 * 60 * 1000;

/** The shortest wait between two turns of the timer loop that found nothing due yet. */
const MIN_TURN_WAIT_MS = 1_000;

/** How long one batch may run: the activity reads it and starts no request whose outcome could land later. */
export const DEFAULT_BATCH_TIMEOUT_MS = 2 * 60 * 1000;

/**
 * Heartbeats catch a dead worker sooner than the timeout, and the deliveries it held come back when their lease
 * expires. Only the options differ with `batchTimeoutMs`, never the commands, so histories replay either way.
 */
const batchActivities = (batchTimeoutMs: number) =>
  proxyActivities<WebhookActivities>({
    startToCloseTimeout: batchTimeoutMs,
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
  });

export async function webhookEndpointWorkflow(input: WebhookEndpointInput): Promise<void> {
  let woken = false;
  setHandler(wakeSignal, () => {
    woken = true;
  });
  const maxBatch = input.maxBatch ?? DEFAULT_MAX_BATCH;
  const batchesPerRun = input.batchesPerRun ?? DEFAULT_BATCHES_PER_RUN;
  const idleMs = input.idleMs ?? DEFAULT_IDLE_MS;
  if (patched('webhook-dispatcher')) {
    const { dispatchIfDue } = proxyActivities<WebhookActivities>({
      // Two statements and a signal.
      startToCloseTimeout: '10 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    });
    for (let turn = 0; turn < batchesPerRun && !workflowInfo().continueAsNewSuggested; turn++) {
      // A wake while the activity runs is kept: it may say the endpoint was switched back on.
      woken = false;
      const due = await dispatchIfDue({ endpointId: input.endpointId, organizationId: input.organizationId });
      if (due.endpoint === 'deleted') return;
      // Disabled: re-enabling announces it to the dispatcher, whose batch hands it back here if retries are left.
      // Dispatched: the same, once its batch ends. Nothing pending: the next new delivery goes to the dispatcher.
      if (due.endpoint === 'disabled' || due.dispatched || due.dueInMs === null) {
        if (woken || (await condition(() => woken, idleMs))) continue;
        return;
      }
      // A delay measured on the database's clock, so no clock of a worker's moves it. At least a second: a lease
      // renewed as it runs out must not turn the wait into a loop of activities.
      await condition(() => woken, Math.max(due.dueInMs, MIN_TURN_WAIT_MS));
    }
    await continueAsNewWithHandlersDone<typeof webhookEndpointWorkflow>(() => [input]);
    return;
  }

  const { deliverDueBatch } = batchActivities(input.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS);

  for (let batch = 0; batch < batchesPerRun && !workflowInfo().continueAsNewSuggested; batch++) {
    // A run of the old loop still open when the dispatcher was deployed runs no more batches of its own (they would
    // run beside the dispatcher's): it continues as new, and the new run takes the dispatcher's path.
    if (patched('webhook-dispatcher-switch')) break;
    // A wake that arrives while the batch runs is kept: whatever it announced may not have been claimable yet.
    woken = false;
    const result = await deliverDueBatch({
      endpointId: input.endpointId,
      organizationId: input.organizationId,
      maxBatch,
    });
    if (result.endpoint === 'deleted') return;
    if (result.endpoint === 'disabled') {
      // Nothing is sent until an admin switches it back on, which wakes a new run.
      if (woken) continue;
      return;
    }
    if (result.more || woken) continue;
    if (result.nextDueAt === null) {
      if (await condition(() => woken, idleMs)) continue;
      return;
    }
    const wait = result.nextDueAt - Date.now();
    if (wait > 0) await condition(() => woken, wait);
  }
  await continueAsNewWithHandlersDone<typeof webhookEndpointWorkflow>(() => [input]);
}

/**
 * The ticket workflow's side: every catalogue event goes to the enqueue activity on the webhooks queue, which
 * turns it into deliveries for the subscribed endpoints and wakes their workflows. One activity per event, however
 * many endpoints; nothing is sent from the ticket workflow itself, so a slow endpoint never holds a ticket back.
 */
export const webhookSubscription: Subscription = {
  name: 'webhooks',
  eventTypes: ticketEventTypes,
  async handle(event) {
    // Ticket workflows started before webhooks existed replay their earlier events without this activity.
    if (!patched('webhooks-subscription')) return;
    const { enqueueWebhookDeliveries } = proxyActivities<WebhookActivities>({
      taskQueue: webhooksTaskQueueFor(workflowInfo().taskQueue),
      // A few statements and signals; the ticket waits on it, so a lost completion (worker or Temporal restart)
      // must be retried soon.
      startToCloseTimeout: '10 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
    });
    await enqueueWebhookDeliveries(event);
  },
};
