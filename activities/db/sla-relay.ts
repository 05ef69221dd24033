// The SLA watch as a workflow subscriber of the outbox relay: a ticket with an open deadline gets its watch started
// or told to re-read (Signal-With-Start `sla/<ticketId>`), a change that may end or move a deadline nudges a running
// watch; everything else costs Temporal nothing. Decided from the events' own ticket snapshots, no query.
import { WorkflowNotFoundError } from '@temporalio/client';
import { groupBy } from '../../common/group-by.ts';
import type { RelaySubscriber } from '../../common/integration-contract.ts';
import {
  coreIntegrationTypes,
  ticketSearchAttributes,
  workflowIds,
  workflowTypes,
} from '../../temporal-config/index.ts';
import type { SlaWatchInput } from '../../workflows/messages.ts';
import { slaTicketChangedSignal } from '../../workflows/messages.ts';
import { DEFAULT_SLA_WARNING_SHARE, slaInterestOf } from '../../workflows/sla-plan-events.ts';

export function slaRelaySubscriber(options: { warningShare?: number } = {}): RelaySubscriber {
  const warningShare = options.warningShare ?? DEFAULT_SLA_WARNING_SHARE;
  return {
    name: 'sla',
    kind: 'workflow',
    async plan(events, ctx) {
      const sends = [];
      for (const [ticketId, ofTicket] of groupBy(events, (e) => e.ticketId)) {
        const interest = slaInterestOf(ofTicket);
        if (interest === null) continue;
        const organizationId = ofTicket[0]!.organizationId;
        const workflowId = workflowIds.sla(ticketId);
        const send =
          interest === 'start'
            ? async () => {
                const input: SlaWatchInput = { ticketId, organizationId, warningShare };
                await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
                  ctx.temporal.workflow.signalWithStart(workflowTypes.sla, {
                    workflowId,
                    taskQueue: ctx.ticketsTaskQueue,
                    args: [input],
                    signal: slaTicketChangedSignal,
                    signalArgs: [],
                    typedSearchAttributes: ticketSearchAttributes(ticketId, organizationId, coreIntegrationTypes.sla),
                  }),
                );
              }
            : async () => {
                try {
                  await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
                    ctx.temporal.workflow.getHandle(workflowId).signal(slaTicketChangedSignal),
                  );
                } catch (err) {
                  // Not running: there is nothing to re-plan.
                  if (!(err instanceof WorkflowNotFoundError)) throw err;
                }
              };
        sends.push({ target: workflowId, ticketIds: [ticketId], send });
      }
      return sends;
    },
  };
}
