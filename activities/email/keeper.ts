// The mailbox keeper: every active mailbox with IMAP settings has its reader workflow running. The lifecycle hooks
// start and signal readers when an admin changes a mailbox; this catches what they could not (Temporal was down at
// that moment, a reader was terminated by an operator), so no inbox is silently left unread.
import { type Database, integrationConfigs } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { readEmailConfig } from '../../domain/email/config.ts';
import { ticketSearchAttributes } from '../../temporal-config/index.ts';
import {
  type EmailMailboxInput,
  emailMailboxWorkflowId,
  emailWorkflowTypes,
  mailboxReconfiguredSignal,
} from '../../workflows/email-contract.ts';

/** Starts the mailbox's reader, or tells the running one to reconnect with new settings. */
export async function wakeMailboxReader(
  temporal: Client,
  emailTaskQueue: string,
  mailbox: { organizationId: string; integrationId: string },
): Promise<void> {
  const input: EmailMailboxInput = { ...mailbox, uidValidity: null, lastUid: 0 };
  await temporal.workflow.signalWithStart(emailWorkflowTypes.mailbox, {
    workflowId: emailMailboxWorkflowId(mailbox.integrationId),
    taskQueue: emailTaskQueue,
    args: [input],
    signal: mailboxReconfiguredSignal,
    signalArgs: [],
    // The search attribute names the mailbox's organisation; TicketId is empty (a mailbox spans tickets).
    typedSearchAttributes: ticketSearchAttributes('', mailbox.organizationId, 'email').filter(
      (pair) => pair.value !== '',
    ),
  });
}

export function createKeeperActivities(deps: { db: Database; temporal: Client }) {
  return {
    /** Starts the reader of every active mailbox that reads IMAP and has none running; returns how many it started. */
    async ensureMailboxReaders(): Promise<number> {
      const rows = await deps.db
        .select({
          id: integrationConfigs.id,
          organizationId: integrationConfigs.organizationId,
          config: integrationConfigs.config,
        })
        .from(integrationConfigs)
        .where(and(eq(integrationConfigs.integrationType, 'email'), eq(integrationConfigs.isActive, true)));
      let started = 0;
      for (const row of rows) {
        let imap: unknown = null;
        try {
          imap = readEmailConfig(row.config).imap;
        } catch {
          continue;
        }
        if (!imap) continue;
        const input: EmailMailboxInput = {
          organizationId: row.organizationId,
          integrationId: row.id,
          uidValidity: null,
          lastUid: 0,
        };
        try {
          await deps.temporal.workflow.start(emailWorkflowTypes.mailbox, {
            workflowId: emailMailboxWorkflowId(row.id),
            // Readers run on the queue the keeper runs on: the email queue.
            taskQueue: Context.current().info.taskQueue,
            args: [input],
            typedSearchAttributes: ticketSearchAttributes('', row.organizationId, 'email').filter(
              (pair) => pair.value !== '',
            ),
          });
          started++;
        } catch (error) {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        }
      }
      return started;
    },
  };
}
export type KeeperActivities = ReturnType<typeof createKeeperActivities>;
