// Starting and waking the notification workflows. The rows are in PostgreSQL before any of this runs, so a failed
// wake loses nothing: the relay holds the batch's tickets back and routes again (finding the same rows, waking the
// same recipients), and a recipient's workflow always reloads everything still waiting.
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { searchAttributes } from '../../temporal-config/index.ts';
import {
  type NotifyAlertInput,
  notifyAlertWorkflowId,
  notifyRecipientWorkflowId,
  notifyWakeSignal,
  notifyWorkflowTypes,
} from '../../workflows/notify-contract.ts';

export const NOTIFICATIONS_INTEGRATION_TYPE = 'notifications';

const attributes = (organizationId: string) => [
  { key: searchAttributes.OrganizationId, value: organizationId },
  { key: searchAttributes.IntegrationType, value: NOTIFICATIONS_INTEGRATION_TYPE },
];

export async function wakeRecipient(
  temporal: Client,
  taskQueue: string,
  organizationId: string,
  recipientKey: string,
): Promise<void> {
  await temporal.workflow.signalWithStart(notifyWorkflowTypes.recipient, {
    workflowId: notifyRecipientWorkflowId(organizationId, recipientKey),
    taskQueue,
    args: [{ organizationId, recipientKey }],
    signal: notifyWakeSignal,
    signalArgs: [],
    typedSearchAttributes: attributes(organizationId),
  });
}

/** Starts an alert's escalation wait; an alert already waiting (a batch routed again) is left as it is. */
export async function startAlert(temporal: Client, taskQueue: string, input: NotifyAlertInput): Promise<void> {
  try {
    await temporal.workflow.start(notifyWorkflowTypes.alert, {
      workflowId: notifyAlertWorkflowId(input.alertId),
      taskQueue,
      args: [input],
      typedSearchAttributes: attributes(input.organizationId),
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
