// What the email workflows share with the code that starts and signals them (the module's lifecycle hooks, the
// relay's email subscriber, the routes) and the worker that runs them: ids, inputs, signals, the task queue. No
// workflow runtime code here beyond the signal definitions.
import { defineSignal } from '@temporalio/workflow';

export const emailWorkflowTypes = {
  mailbox: 'emailMailboxWorkflow',
  thread: 'emailThreadWorkflow',
  keeper: 'emailMailboxKeeperWorkflow',
} as const;

/** One reader per mailbox: the id is the lock that keeps two workers from reading the same inbox. */
export const emailMailboxWorkflowId = (integrationId: string) => `email-mailbox/${integrationId}`;
/** One sender per ticket: its replies leave in the order they were written. */
export const emailThreadWorkflowId = (ticketId: string) => `email-thread/${ticketId}`;

export type EmailMailboxInput = {
  organizationId: string;
  integrationId: string;
  uidValidity: string | null;
  lastUid: number;
};

export type EmailThreadInput = {
  organizationId: string;
  ticketId: string;
  /** Comments a previous run had not turned into replies yet (carried across continue-as-new). */
  pendingCommentIds?: string[];
};

/** Work for a ticket's thread: comments to turn into replies, and a nudge to send whatever is queued. */
export type EmailThreadWork = { commentIds: string[] };

/** The mailbox's settings changed: the current connection ends and a new one starts with them. */
export const mailboxReconfiguredSignal = defineSignal('mailboxReconfigured');
export const threadWorkSignal = defineSignal<[EmailThreadWork]>('threadWork');

/** The email worker's queue next to a tickets queue (`tickets` → `email`), as for files and webhooks. */
export function emailTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'email' : `${ticketsTaskQueue}.email`;
}
