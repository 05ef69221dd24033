// Two ways to reach the code that sends an endpoint's deliveries, both Signal-With-Start:
// - dispatchEndpoints announces endpoints with deliveries due now to the queue's dispatcher, which runs their
//   batches (the relay's fan-out, the API's resends and test events, the notification channel);
// - wakeEndpoint wakes one endpoint's own workflow, which keeps its retry timer (the dispatcher hands an endpoint
//   back to it when its batch leaves retries due later).
// The deliveries are already in PostgreSQL when either runs, so a failed call loses nothing.
import type { Client } from '@temporalio/client';
import { searchAttributes, taskQueues } from '../../temporal-config/index.ts';
import {
  type DispatchTarget,
  dispatchSignal,
  type WebhookDispatcherInput,
  type WebhookEndpointInput,
  wakeSignal,
  webhookDispatcherWorkflowId,
  webhookDispatcherWorkflowType,
  webhookEndpointWorkflowId,
  webhookEndpointWorkflowType,
} from '../../workflows/webhook-endpoint-contract.ts';

export type WakeOptions = {
  /** The webhooks task queue; tests pass their own. */
  taskQueue?: string;
  /** Workflow settings used only if this call starts the workflow. */
  workflow?: Omit<WebhookEndpointInput, 'endpointId' | 'organizationId'>;
};

export async function wakeEndpoint(
  client: Client,
  endpointId: string,
  organizationId: string,
  options: WakeOptions = {},
): Promise<void> {
  const input: WebhookEndpointInput = { endpointId, organizationId, ...options.workflow };
  await client.workflow.signalWithStart(webhookEndpointWorkflowType, {
    workflowId: webhookEndpointWorkflowId(endpointId),
    taskQueue: options.taskQueue ?? taskQueues.webhooks,
    args: [input],
    signal: wakeSignal,
    signalArgs: [],
    typedSearchAttributes: [
      { key: searchAttributes.OrganizationId, value: organizationId },
      { key: searchAttributes.IntegrationType, value: 'webhook' },
    ],
  });
}

export type DispatchOptions = {
  /** The webhooks task queue; tests pass their own. */
  taskQueue?: string;
  /** Dispatcher settings used only if this call starts the workflow. */
  workflow?: Omit<WebhookDispatcherInput, 'carried'>;
};

/**
 * Announces endpoints with deliveries due now to the webhook dispatcher of the queue, starting it if it is not
 * running (Signal-With-Start): one call for any number of endpoints. The deliveries are already in PostgreSQL, so a
 * failed call loses nothing; the caller retries it or the endpoint waits for its next announcement.
 */
export async function dispatchEndpoints(
  client: Client,
  targets: DispatchTarget[],
  options: DispatchOptions = {},
): Promise<void> {
  if (targets.length === 0) return;
  const taskQueue = options.taskQueue ?? taskQueues.webhooks;
  const input: WebhookDispatcherInput = { ...options.workflow };
  await client.workflow.signalWithStart(webhookDispatcherWorkflowType, {
    workflowId: webhookDispatcherWorkflowId(taskQueue),
    taskQueue,
    args: [input],
    signal: dispatchSignal,
    signalArgs: [targets],
    typedSearchAttributes: [{ key: searchAttributes.IntegrationType, value: 'webhook' }],
  });
}

/** Endpoints per signal at most, so a signal's payload stays far below Temporal's 2 MB limit. */
const MAX_TARGETS_PER_SIGNAL = 1_000;

/**
 * Announcements to one queue's dispatcher, merged: while one signal is in flight, later callers share the next,
 * which carries all their endpoints (each once) and starts when the current one settles. Each caller's promise
 * settles with the signal that carried its endpoint. 100 resend requests at once cost a few signals, not 100.
 */
export function mergedAnnouncements(
  send: (targets: DispatchTarget[]) => Promise<void>,
): (target: DispatchTarget) => Promise<void> {
  let pending = new Map<string, DispatchTarget>();
  let next: Promise<void> | undefined;
  let inFlight: Promise<void> | undefined;
  const start = (): Promise<void> => {
    const targets = [...pending.values()];
    pending = new Map();
    const sending = (async () => {
      for (let i = 0; i < targets.length; i += MAX_TARGETS_PER_SIGNAL)
        await send(targets.slice(i, i + MAX_TARGETS_PER_SIGNAL));
    })();
    inFlight = sending;
    const settle = () => {
      if (inFlight === sending) inFlight = undefined;
    };
    sending.then(settle, settle);
    return sending;
  };
  return (target) => {
    pending.set(`${target.organizationId}|${target.endpointId}`, target);
    if (next) return next;
    if (!inFlight) return start();
    const after = inFlight.then(
      () => {},
      () => {},
    );
    next = after.then(() => {
      next = undefined;
      return start();
    });
    return next;
  };
}
