// What the email workflows share with the code that starts and signals them (the module's lifecycle hooks, the
// relay's email subscriber, the routes) and the worker that runs them: ids, inputs, signals, the task queue. No
// workflow runtime code here beyond the signal definitions.
import { defineSignal } from '@temporalio/workflow';

export const emailWorkflowTypes = {
  mailbox: 'emailMailboxWorkflow',
  /** Kept registered for runs started before the outbox (no new work is routed to it). */
  thread: 'emailThreadWorkflow',
  outbox: 'emailOutboxWorkflow',
  keeper: 'emailMailboxKeeperWorkflow',
} as const;

/** One reader per mailbox: the id is the lock that keeps two workers from reading the same inbox. */
export const emailMailboxWorkflowId = (integrationId: string) => `email-mailbox/${integrationId}`;
/** The sender per ticket before the outbox; runs started then finish under this id. */
export const emailThreadWorkflowId = (ticketId: string) => `email-thread/${ticketId}`;
/**
 * One sender per organisation, for all its mailboxes: every ticket's replies leave from one place, in the order they
 * were written, whichever mailbox they go through (workflows/email-outbox.ts).
 */
export const emailOutboxWorkflowId = (organizationId: string) => `email-outbox/${organizationId}`;

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

/** A ticket's part of the outbox's work: its comments to turn into replies (none: only a nudge to send). */
export type EmailOutboxTicket = { ticketId: string; commentIds: string[] };

export type EmailOutboxInput = {
  organizationId: string;
  /** Work a previous run had not handed to an activity yet (carried across continue-as-new). */
  pending?: EmailOutboxTicket[];
};

/** Work for the outbox: ids only, never content (it would sit in Temporal's history). */
export type EmailOutboxWork = { tickets: EmailOutboxTicket[] };

/** The mailbox's settings changed: the current connection ends and a new one starts with them. */
export const mailboxReconfiguredSignal = defineSignal('mailboxReconfigured');
export const threadWorkSignal = defineSignal<[EmailThreadWork]>('threadWork');
export const outboxWorkSignal = defineSignal<[EmailOutboxWork]>('outboxWork');

/** The email worker's queue next to a tickets queue (`tickets` → `email`), as for files and webhooks. */
export function emailTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'email' : `${ticketsTaskQueue}.email`;
}
