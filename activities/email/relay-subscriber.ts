// Email as a workflow subscriber of the outbox relay. A ticket's thread workflow (`email-thread/<ticketId>`) is
// woken only when there is mail to send: an agent's public comment on a ticket that has an email thread, or mail
// queued for the ticket (an acknowledgement written with the ticket, a composer send written with its comment). Both
// are decided from one query over the batch's tickets, and only for organisations with an active mailbox; a ticket
// event that sends no mail costs Temporal nothing. All of a ticket's comments in a batch go in one signal.
import { ticketEmails } from '@switchboard/database';
import { inArray, sql } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import type { RelaySend, RelaySubscriber } from '../../common/integration-contract.ts';
import type { TicketEventPayload } from '../../common/ticket-events.ts';
import { activeIntegrationsOf } from '../../domain/integrations/read-integrations.ts';
import { ticketSearchAttributes } from '../../temporal-config/index.ts';
import {
  type EmailThreadInput,
  emailTaskQueueFor,
  emailThreadWorkflowId,
  emailWorkflowTypes,
  threadWorkSignal,
} from '../../workflows/email-contract.ts';

export function emailRelaySubscriber(): RelaySubscriber {
  return {
    name: 'email',
    kind: 'workflow',
    async plan(events, ctx) {
      const organizationIds = [...new Set(events.map((e) => e.organizationId))];
      const mailboxes = await activeIntegrationsOf(ctx.db, 'email', organizationIds);
      if (mailboxes.length === 0) return [];
      const withEmail = new Set(mailboxes.map((m) => m.organizationId));
      const relevant = events.filter((e) => withEmail.has(e.organizationId));
      if (relevant.length === 0) return [];

      const ticketIds = [...new Set(relevant.map((e) => e.ticketId))];
      const facts = await ctx.db
        .select({
          ticketId: ticketEmails.supportRequestId,
          hasThread: sql<boolean>`bool_or(${ticketEmails.direction} = 'inbound')`,
          queued: sql<boolean>`bool_or(${ticketEmails.status} = 'queued')`,
        })
        .from(ticketEmails)
        .where(inArray(ticketEmails.supportRequestId, ticketIds))
        .groupBy(ticketEmails.supportRequestId);
      const factsOf = new Map(facts.map((f) => [f.ticketId, f]));

      const sends: RelaySend[] = [];
      for (const [ticketId, ofTicket] of groupBy(relevant, (e) => e.ticketId)) {
        const fact = factsOf.get(ticketId);
        if (!fact) continue;
        const commentIds = fact.hasThread
          ? ofTicket
              .filter((e) => e.type === 'comment.created')
              .map((e) => (e.payload as TicketEventPayload<'comment.created'>).comment)
              .filter((c) => c.isPublic && c.source !== 'email' && !!c.authorUserId)
              .map((c) => c.id)
          : [];
        if (commentIds.length === 0 && !fact.queued) continue;
        sends.push(wakeThread(ctx, ofTicket[0]!.organizationId, ticketId, commentIds));
      }
      return sends;
    },
  };
}

function wakeThread(
  ctx: Parameters<RelaySubscriber['plan']>[1],
  organizationId: string,
  ticketId: string,
  commentIds: string[],
): RelaySend {
  const workflowId = emailThreadWorkflowId(ticketId);
  const input: EmailThreadInput = { organizationId, ticketId };
  return {
    target: workflowId,
    ticketIds: [ticketId],
    send: async () => {
      await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
        ctx.temporal.workflow.signalWithStart(emailWorkflowTypes.thread, {
          workflowId,
          taskQueue: emailTaskQueueFor(ctx.ticketsTaskQueue),
          args: [input],
          signal: threadWorkSignal,
          signalArgs: [{ commentIds }],
          typedSearchAttributes: ticketSearchAttributes(ticketId, organizationId, 'email'),
        }),
      );
    },
  };
}
