// The ticket workflow's side of Linear: every ticket event of interest goes to the routing activity, which signals
// the sync workflow of each link of the ticket (starting it if needed) and says which installations could create an
// issue for it by rule. Matching ones get an issue-creating child; its workflow id makes that at most one per
// ticket and installation.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, patched, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { TicketEventType, TicketSnapshot } from '../common/ticket-events.ts';
import { workflowIds } from '../temporal-config/index.ts';
import type { LinearIssueRequest } from './linear-contract.ts';
import { linearIssueWorkflow } from './linear-issue.ts';
import { linearLocalActivities } from './linear-sync.ts';
import { autoCreateMatches } from './linear-sync-plan.ts';
import type { Subscription } from './registry.ts';

export const linearEventTypes: readonly TicketEventType[] = [
  'ticket.created',
  'ticket.updated',
  'ticket.status_changed',
  'ticket.assigned',
  'comment.created',
];

export const linearSubscription: Subscription = {
  name: 'linear',
  eventTypes: linearEventTypes,
  async handle(event, ctx) {
    // Ticket workflows started before Linear existed replay their earlier events without this activity.
    if (!patched('linear-subscription')) return;
    // The ticket waits on this: a few statements and signals, retried soon when its completion is lost.
    const { routeTicketEventToLinear } = linearLocalActivities('10 seconds');
    const { installations } = await routeTicketEventToLinear(event);
    const ticket = (event.payload as { ticket?: TicketSnapshot } | null)?.ticket ?? null;
    for (const installation of installations) {
      if (!autoCreateMatches(installation, event.type, ticket)) continue;
      const requestKey = `auto/${installation.integrationId}`;
      const request: LinearIssueRequest = {
        organizationId: ctx.organizationId,
        ticketId: ctx.ticketId,
        integrationId: installation.integrationId,
        requestKey,
        requestedBy: { type: 'system', id: null },
        mode: 'create',
        auto: true,
      };
      try {
        await startChild(linearIssueWorkflow, {
          workflowId: workflowIds.linearIssue(ctx.ticketId, requestKey),
          args: [request],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          // One automatic issue per ticket and installation, ever: a completed run blocks the next (also after an
          // unlink); a failed one (say, the token was revoked) lets a later event try again.
          workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
          typedSearchAttributes: ctx.searchAttributes('linear'),
        });
      } catch (err) {
        // Already being created (an earlier event of this ticket), or created before.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    }
  },
};
