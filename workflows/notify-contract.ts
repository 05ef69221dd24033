// What the notification workflows share with the code that starts and signals them (the relay's notifications
// subscriber, the alert acknowledgement routes, the Slack button) and the worker that runs them: ids, inputs,
// signals, the task queue. No workflow runtime code here beyond the signal definitions.
import { defineSignal } from '@temporalio/workflow';

export const notifyWorkflowTypes = { recipient: 'notifyRecipientWorkflow', alert: 'notifyAlertWorkflow' } as const;

/**
 * One workflow per recipient holds their digests, throttles and quiet hours: `notify/<organization>/<userId>` for a
 * member (a person in two organisations has preferences, and notifications, in each), and
 * `notify/<organization>/slack:<integration>:<channel>` for a Slack channel, `…/customer:<id>` for a requester.
 */
export const notifyRecipientWorkflowId = (organizationId: string, recipientKey: string) =>
  `notify/${organizationId}/${recipientKey}`;
/** One per critical alert that escalates: the alert row's id is the key. */
export const notifyAlertWorkflowId = (alertId: string) => `notify-alert/${alertId}`;

export type NotifyRecipientInput = { organizationId: string; recipientKey: string };
export type NotifyAlertInput = { organizationId: string; alertId: string; escalateAt: string };

/** New notifications are waiting for the recipient (sent at most once per relay batch). */
export const notifyWakeSignal = defineSignal('notifyWake');
/** Someone acknowledged the alert: its escalation is cancelled. */
export const alertAcknowledgedSignal = defineSignal('alertAcknowledged');

/** The notifications worker's queue next to a tickets queue (`tickets` → `notifications`). */
export function notifyTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'notifications' : `${ticketsTaskQueue}.notifications`;
}

/** The inverse: the tickets queue a notifications queue sits next to (activities find other modules' queues by it). */
export function ticketsTaskQueueOfNotify(notifyTaskQueue: string): string {
  return notifyTaskQueue === 'notifications' ? 'tickets' : notifyTaskQueue.replace(/\.notifications$/, '');
}

/** A send the next attempt cannot fix (no email integration, no Slack account): recorded as failed, not retried. */
export const NOTIFY_PERMANENT = 'NotificationPermanentFailure';
