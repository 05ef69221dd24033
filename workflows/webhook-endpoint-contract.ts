// What the per-endpoint delivery workflow shares with the code that wakes it (the enqueue activity, the API) and
// with the worker that runs it: its id, input, signal and task queue. No workflow runtime code here, so the API
// and activities can import it.
import { defineSignal } from '@temporalio/workflow';

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
