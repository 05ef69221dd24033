// Email as a workflow subscriber of the outbox relay. An organisation's outbox workflow (`email-outbox/<orgId>`) is
// woken only when there is mail to send: an agent's public comment on a ticket that has an email thread, or mail
// queued for the ticket (an acknowledgement written with the ticket, a composer send written with its comment). Both
// are decided from one query over the batch's tickets, and only for organisations with an active mailbox; a ticket
// event that sends no mail costs Temporal nothing. All of a batch's tickets of one organisation go in one signal,
// as (ticket, comment ids) pairs: one Signal-With-Start per organisation and batch, however many tickets.
import { ticketEmails } from '@switchboard/database';
import { inArray, sql } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import type { RelaySend, RelaySubscriber } from '../../common/integration-contract.ts';
import type { TicketEventPayload } from '../../common/ticket-events.ts';
import { ticketSearchAttributes } from '../../temporal-config/index.ts';
import {
  type EmailOutboxInput,
  type EmailOutboxTicket,
  emailOutboxWorkflowId,
  emailTaskQueueFor,
  emailWorkflowTypes,
  outboxWorkSignal,
} from '../../workflows/email-contract.ts';

export function emailRelaySubscriber(): RelaySubscriber {
  return {
    name: 'email',
    kind: 'workflow',
    integrationTypes: ['email'],
    async plan(events, ctx) {
      const mailboxes = await ctx.activeIntegrations('email');
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

      const work = new Map<string, EmailOutboxTicket[]>();
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
        const organizationId = ofTicket[0]!.organizationId;
        const tickets = work.get(organizationId) ?? [];
        tickets.push({ ticketId, commentIds });
        work.set(organizationId, tickets);
      }
      return [...work].map(([organizationId, tickets]) => wakeOutbox(ctx, organizationId, tickets));
    },
  };
}

function wakeOutbox(
  ctx: Parameters<RelaySubscriber['plan']>[1],
  organizationId: string,
  tickets: EmailOutboxTicket[],
): RelaySend {
  const workflowId = emailOutboxWorkflowId(organizationId);
  const input: EmailOutboxInput = { organizationId };
  return {
    target: workflowId,
    ticketIds: tickets.map((t) => t.ticketId),
    send: async () => {
      await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
        ctx.temporal.workflow.signalWithStart(emailWorkflowTypes.outbox, {
          workflowId,
          taskQueue: emailTaskQueueFor(ctx.ticketsTaskQueue),
          args: [input],
          signal: outboxWorkSignal,
          signalArgs: [{ tickets }],
          // The organisation's; TicketId stays unset (an outbox spans tickets).
          typedSearchAttributes: ticketSearchAttributes('', organizationId, 'email').filter(
            (pair) => pair.value !== '',
          ),
        }),
      );
    },
  };
}
