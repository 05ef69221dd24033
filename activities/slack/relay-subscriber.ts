// Slack as a workflow subscriber of the outbox relay. A ticket's workflow in a workspace
// (`slack-ticket/<integrationId>/<ticketId>`) hears of the events that can change its messages, and only where a
// message can follow: the installation has channel rules, or the ticket already has a message there, or the event
// may become an agent's DM (an assignment, a comment that mentions someone). Decided from the batch and one query over its tickets; all of
// a ticket's events in a batch go in one signal per workspace.
import { slackPosts } from '@switchboard/database';
import { and, inArray } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import type { RelayContext, RelaySend, RelaySubscriber } from '../../common/integration-contract.ts';
import type { TicketEventType } from '../../common/ticket-events.ts';
import { activeIntegrationsOf } from '../../domain/integrations/read-integrations.ts';
import { slackConfigOf } from '../../domain/slack/config.ts';
import { ticketSearchAttributes } from '../../temporal-config/index.ts';
import {
  type SlackTicketInput,
  slackTaskQueueFor,
  slackTicketWorkflowId,
  slackTicketWorkSignal,
  slackWorkflowTypes,
} from '../../workflows/slack-contract.ts';

const WANTED: ReadonlySet<TicketEventType> = new Set([
  'ticket.created',
  'ticket.updated',
  'ticket.status_changed',
  'ticket.assigned',
  'comment.created',
  'sla.warning',
  'sla.breached',
]);

export function slackRelaySubscriber(): RelaySubscriber {
  return {
    name: 'slack',
    kind: 'workflow',
    async plan(events, ctx) {
      const wanted = events.filter((e) => WANTED.has(e.type));
      if (wanted.length === 0) return [];
      const organizationIds = [...new Set(wanted.map((e) => e.organizationId))];
      const installations = await activeIntegrationsOf(ctx.db, 'slack', organizationIds);
      if (installations.length === 0) return [];
      const ticketIds = [...new Set(wanted.map((e) => e.ticketId))];
      const posted = await ctx.db
        .selectDistinct({ integrationId: slackPosts.integrationId, ticketId: slackPosts.ticketId })
        .from(slackPosts)
        .where(
          and(
            inArray(slackPosts.ticketId, ticketIds),
            inArray(
              slackPosts.integrationId,
              installations.map((i) => i.id),
            ),
          ),
        );
      const hasMessages = new Set(posted.map((p) => `${p.integrationId}/${p.ticketId}`));

      const sends: RelaySend[] = [];
      for (const installation of installations) {
        const hasRules = slackConfigOf(installation.config).rules.length > 0;
        const ofOrg = wanted.filter((e) => e.organizationId === installation.organizationId);
        for (const [ticketId, ofTicket] of groupBy(ofOrg, (e) => e.ticketId)) {
          const follows = hasRules || hasMessages.has(`${installation.id}/${ticketId}`);
          const eventIds = ofTicket.filter((e) => follows || mayDirectMessage(e)).map((e) => e.id);
          if (eventIds.length === 0) continue;
          sends.push(wake(ctx, installation.organizationId, installation.id, ticketId, eventIds));
        }
      }
      return sends;
    },
  };
}

/** An assignment, or a comment that may mention someone: either can become an agent's DM without any channel. */
function mayDirectMessage(event: { type: TicketEventType; payload: unknown }): boolean {
  if (event.type === 'ticket.assigned') return true;
  if (event.type !== 'comment.created') return false;
  const body = (event.payload as { comment?: { body?: string } }).comment?.body;
  return typeof body === 'string' && body.includes('@');
}

function wake(
  ctx: RelayContext,
  organizationId: string,
  integrationId: string,
  ticketId: string,
  eventIds: number[],
): RelaySend {
  const workflowId = slackTicketWorkflowId(integrationId, ticketId);
  const input: SlackTicketInput = { organizationId, integrationId, ticketId };
  return {
    target: workflowId,
    ticketIds: [ticketId],
    send: async () => {
      await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
        ctx.temporal.workflow.signalWithStart(slackWorkflowTypes.ticket, {
          workflowId,
          taskQueue: slackTaskQueueFor(ctx.ticketsTaskQueue),
          args: [input],
          signal: slackTicketWorkSignal,
          signalArgs: [{ eventIds, inboundIds: [] }],
          typedSearchAttributes: ticketSearchAttributes(ticketId, organizationId, 'slack'),
        }),
      );
    },
  };
}
