// What the Slack workflows share with the code that starts and signals them (the relay's Slack subscriber, the
// Slack request handler, the install that resumes paused work) and the worker that runs them: ids, inputs, signals,
// the task queue, the failure types. No workflow runtime code here beyond the signal definitions.
import { type ActivityOptions, defineQuery, defineSignal } from '@temporalio/workflow';
import type { SlackOp } from './slack-thread-plan.ts';

export const slackWorkflowTypes = {
  ticket: 'slackTicketWorkflow',
  sync: 'slackSyncWorkflow',
  intake: 'slackIntakeWorkflow',
} as const;

/**
 * What people do in Slack about one ticket (clicks, commands, replies), applied in order, one at a time. Ticket
 * events no longer come here (they go to the installation's sync workflow); runs started before that still finish
 * the event batches they hold.
 */
export const slackTicketWorkflowId = (integrationId: string, ticketId: string) =>
  `slack-ticket/${integrationId}/${ticketId}`;
/**
 * The one writer of ticket events to one installation: every ticket's messages there keep their order, and a
 * workflow per installation (not per ticket) keeps a new ticket from costing a workflow (performance.md, Slack).
 */
export const slackSyncWorkflowId = (integrationId: string) => `slack-sync/${integrationId}`;
/** Something from Slack that makes a ticket (a modal, a message shortcut): the inbound row's id is the key. */
export const slackIntakeWorkflowId = (inboundId: string) => `slack-intake/${inboundId}`;

export type SlackInstallationRef = { organizationId: string; integrationId: string };
export type SlackTicketRef = SlackInstallationRef & { ticketId: string };

/** One ticket's events, by id, in the order they happened. */
export type SlackTicketEvents = { ticketId: string; eventIds: number[] };

export type SlackSyncInput = SlackInstallationRef & {
  /** Events a previous run had not synced yet, in order (carried across continue-as-new). */
  pending?: SlackTicketEvents[];
  /** Tickets a previous run had set aside after a failure, each until its due time (epoch ms). */
  setAside?: SlackSetAside[];
  /**
   * The previous run was waiting for the workspace to be installed again: every carried ticket is recorded as paused,
   * and the next hourly check is due then (epoch ms).
   */
  paused?: { recheckAt: number };
  /** Smaller bounds for a run (tests): rounds, and events of its own history, before it continues as new. */
  limits?: { roundsPerRun?: number; historyEventsPerRun?: number };
};

/** A ticket whose last round failed: it waits for its own retry, the installation's other tickets go on. */
export type SlackSetAside = { ticketId: string; attempts: number; dueAt: number; reason: string };

/**
 * A ticket of a round that did not go out (every other ticket of the round did): why, and how long Slack asked us to
 * wait (a channel's pace, a 429's Retry-After) when it said; without that, a failure, retried with growing waits.
 */
export type SlackTicketSetback = { ticketId: string; reason: string; retryAfterMs?: number };

/** What a sync round answers: its tickets that must go again (the rest are done). */
export type SlackRoundResult = { setBack: SlackTicketSetback[] };

/** A round's progress (its heartbeat, and the details of its failure): the tickets whose messages all went out. */
export type SlackRoundProgress = { doneTicketIds: string[] };

export type SlackTicketInput = SlackTicketRef & {
  /** Work a previous run had not done yet (carried across continue-as-new). */
  pendingEventIds?: number[];
  pendingInboundIds?: string[];
};

export type SlackIntakeInput = { organizationId: string; integrationId: string; inboundId: string };

/** Ticket events for Slack (from the relay) and things people did in Slack (rows of slack_inbound), by id only. */
export type SlackTicketWork = { eventIds: number[]; inboundIds: string[] };

export const slackTicketWorkSignal = defineSignal<[SlackTicketWork]>('slackTicketWork');
/** Ticket events for Slack, from one relay batch: every ticket of the installation that has some, by id only. */
export const slackSyncSignal = defineSignal<[SlackTicketEvents[]]>('slackSyncEvents');
/** The workspace is connected again: paused work goes on. */
export const slackResumeSignal = defineSignal('slackResume');

/** What the installation's sync workflow holds (tests, an operator's look): counts, and the tickets set aside. */
export type SlackSyncState = {
  tickets: number;
  events: number;
  inRounds: number;
  disconnected: boolean;
  setAside: SlackSetAside[];
};
export const slackSyncStateQuery = defineQuery<SlackSyncState>('slackSyncState');

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
