// What the Slack workflows share with the code that starts and signals them (the relay's Slack subscriber, the
// Slack request handler, the install that resumes paused work) and the worker that runs them: ids, inputs, signals,
// the task queue, the failure types. No workflow runtime code here beyond the signal definitions.
import { type ActivityOptions, defineSignal } from '@temporalio/workflow';
import type { SlackOp } from './slack-thread-plan.ts';

export const slackWorkflowTypes = { ticket: 'slackTicketWorkflow', intake: 'slackIntakeWorkflow' } as const;

/** One writer per ticket per workspace: its messages there keep their order, and a parent is posted once. */
export const slackTicketWorkflowId = (integrationId: string, ticketId: string) =>
  `slack-ticket/${integrationId}/${ticketId}`;
/** Something from Slack that makes a ticket (a modal, a message shortcut): the inbound row's id is the key. */
export const slackIntakeWorkflowId = (inboundId: string) => `slack-intake/${inboundId}`;

export type SlackTicketRef = { organizationId: string; integrationId: string; ticketId: string };

export type SlackTicketInput = SlackTicketRef & {
  /** Work a previous run had not done yet (carried across continue-as-new). */
  pendingEventIds?: number[];
  pendingInboundIds?: string[];
};

export type SlackIntakeInput = { organizationId: string; integrationId: string; inboundId: string };

/** Ticket events for Slack (from the relay) and things people did in Slack (rows of slack_inbound), by id only. */
export type SlackTicketWork = { eventIds: number[]; inboundIds: string[] };

export const slackTicketWorkSignal = defineSignal<[SlackTicketWork]>('slackTicketWork');
/** The workspace is connected again: paused work goes on. */
export const slackResumeSignal = defineSignal('slackResume');

/** What applying an inbound row leads to: an answer to the person, and messages to post (a DM discussion). */
export type InboundOutcome = { respond: boolean; ops: SlackOp[] };

/** The bot can no longer act in the workspace (uninstalled, token revoked): the work pauses, nothing is dropped. */
export const SLACK_DISCONNECTED = 'SlackDisconnected';
/** Slack refused this one message for good (channel gone, archived): recorded on the integration, skipped. */
export const SLACK_REFUSED = 'SlackRefused';

/** The Slack worker's queue next to a tickets queue (`tickets` → `slack`), as for the other modules. */
export function slackTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'slack' : `${ticketsTaskQueue}.slack`;
}

/**
 * Answering the person who did something in Slack is best effort: a channel they cannot see, an expired
 * response_url, must not hold a ticket's other work (or an intake's end).
 */
export const answerActivityOptions: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [SLACK_DISCONNECTED, SLACK_REFUSED],
  },
};
