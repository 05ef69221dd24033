// What the per-endpoint delivery workflow shares with the code that wakes it (the enqueue activity, the API) and
// with the worker that runs it: its id, input, signal and task queue. No workflow runtime code here, so the API
// and activities can import it.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CarriedDispatch, DispatcherState, DispatchOutcome } from './webhook-dispatcher-plan.ts';

export const webhookEndpointWorkflowType = 'webhookEndpointWorkflow';

export const webhookEndpointWorkflowId = (endpointId: string) => `webhook-endpoint/${endpointId}`;

/** "Something may be due": new deliveries, a resend, an endpoint switched back on. Carries nothing: the database
 * is the queue, the signal only shortens the wait. */
export const wakeSignal = defineSignal('wake');

export type WebhookEndpointInput = {
  endpointId: string;
  organizationId: string;
  /** Deliveries claimed per batch (one activity), in rounds of at most the endpoint's concurrency. */
  maxBatch?: number;
  /** A batch activity's start-to-close timeout (default 2 minutes); tests shorten it to run long batches quickly. */
  batchTimeoutMs?: number;
  /** Batches per run before continuing as new (Temporal may suggest it sooner). */
  batchesPerRun?: number;
  /** With nothing pending and no wake for this long, the workflow ends; the next wake starts a new one. */
  idleMs?: number;
};

/**
 * The queue the webhook worker serves next to a ticket queue. Production: `tickets` → `webhooks`. A ticket queue
 * with another name (tests, a second deployment sharing a namespace) gets its own sibling, so the ticket workflow
 * (deterministic code, no configuration at hand) can always tell where to send webhook work.
 */
export function webhooksTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'webhooks' : `${ticketsTaskQueue}.webhooks`;
}

// ---------------------------------------------------------------------------------------------------------------
// The dispatcher (workflows/webhook-dispatcher.ts): one workflow per webhooks task queue that runs the batches of
// endpoints with deliveries due now, many endpoints per activity. New deliveries are announced to it, not to each
// endpoint's workflow, so a burst over 100 endpoints costs Temporal a few signals and activities instead of a
// workflow, a wake and an activity per endpoint. The endpoint's own workflow keeps its retry timer.

export const webhookDispatcherWorkflowType = 'webhookDispatcherWorkflow';

export const webhookDispatcherWorkflowId = (webhooksTaskQueue: string) => `webhook-dispatcher/${webhooksTaskQueue}`;

/** An endpoint with deliveries due now (ids only: nothing of the deliveries goes through Temporal). */
export type DispatchTarget = { endpointId: string; organizationId: string };

/** "These endpoints have deliveries due now": each gets a batch that starts after the signal was received. */
export const dispatchSignal = defineSignal<[DispatchTarget[]]>('dispatch');

/**
 * From a group activity: these endpoints' batches ended while others of the group still run, with their outcomes
 * (the dispatcher may give them their next batch now). The rest come back with the activity's completion.
 */
export const batchesEndedSignal = defineSignal<[{ group: string; outcomes: DispatchOutcome[] }]>('batchesEnded');

/** Which endpoints wait, run, or keep failing (with the kind of error and when they are tried again). */
export const dispatcherStateQuery = defineQuery<DispatcherState>('state');

export type WebhookDispatcherInput = {
  /** Deliveries one endpoint's batch may claim (as an endpoint workflow's batch). */
  maxBatch?: number;
  /** A group activity's start-to-close timeout, which is also each of its batches' time limit. */
  batchTimeoutMs?: number;
  /** With nothing waiting or running for this long, the workflow ends; the next announcement starts a new one. */
  idleMs?: number;
  /** Group activities per run before continuing as new (Temporal may suggest it sooner). */
  groupsPerRun?: number;
  /** Carried over continue-as-new: endpoints announced and not yet given a batch, and those held back until a time. */
  carried?: CarriedDispatch;
};
