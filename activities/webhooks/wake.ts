// Wakes an endpoint's delivery workflow, starting it if it is not running (Signal-With-Start). Used by the enqueue
// activity after new deliveries and by the API after a test event or a resend. The deliveries are already in
// PostgreSQL when this runs, so a failed wake loses nothing: they wait for the endpoint's next wake.
import type { Client } from '@temporalio/client';
import { searchAttributes, taskQueues } from '../../temporal-config/index.ts';
import {
  type WebhookEndpointInput,
  wakeSignal,
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
