// Slack as a workflow subscriber of the outbox relay. An installation's sync workflow (`slack-sync/<integrationId>`)
// hears of the events that can change its messages, and only where a message can follow: the installation has
// channel rules, or the ticket already has a message there, or the event may become an agent's DM (an assignment, a
// comment that mentions someone). Decided from the batch and one query over its tickets; all of a batch's events
// for one installation go in one signal (each ticket's in order), however many tickets they are about.
import { slackPosts } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { and, inArray } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import type { RelayContext, RelaySend, RelaySubscriber } from '../../common/integration-contract.ts';
import type { TicketEventType } from '../../common/ticket-events.ts';
import { slackConfigOf } from '../../domain/slack/config.ts';
import { searchAttributes } from '../../temporal-config/index.ts';
import {
  type SlackInstallationRef,
  type SlackSyncInput,
  type SlackTicketEvents,
  slackSyncSignal,
  slackSyncWorkflowId,
  slackTaskQueueFor,
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
    integrationTypes: ['slack'],
    async plan(events, ctx) {
      const wanted = events.filter((e) => WANTED.has(e.type));
      if (wanted.length === 0) return [];
      const organizationIds = new Set(wanted.map((e) => e.organizationId));
      const installations = (await ctx.activeIntegrations('slack')).filter((i) =>
        organizationIds.has(i.organizationId),
      );
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
        const tickets: SlackTicketEvents[] = [];
        // The relay reads events in id order: each ticket's ids stay in the order they happened.
        for (const [ticketId, ofTicket] of groupBy(ofOrg, (e) => e.ticketId)) {
          const follows = hasRules || hasMessages.has(`${installation.id}/${ticketId}`);
          const eventIds = ofTicket.filter((e) => follows || mayDirectMessage(e)).map((e) => e.id);
          if (eventIds.length > 0) tickets.push({ ticketId, eventIds });
        }
        if (tickets.length > 0) sends.push(wake(ctx, installation.organizationId, installation.id, tickets));
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
  tickets: SlackTicketEvents[],
): RelaySend {
  return {
    target: slackSyncWorkflowId(integrationId),
    ticketIds: tickets.map((t) => t.ticketId),
    send: async () => {
      await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
        signalSlackSync(ctx.temporal, ctx.ticketsTaskQueue, { organizationId, integrationId }, tickets),
      );
    },
  };
}

/** Hands tickets' events to the installation's sync workflow, starting it if it is not running. */
export async function signalSlackSync(
  temporal: Pick<Client, 'workflow'>,
  ticketsTaskQueue: string,
  ref: SlackInstallationRef,
  tickets: SlackTicketEvents[],
): Promise<void> {
  const input: SlackSyncInput = { organizationId: ref.organizationId, integrationId: ref.integrationId };
  await temporal.workflow.signalWithStart(slackWorkflowTypes.sync, {
    workflowId: slackSyncWorkflowId(ref.integrationId),
    taskQueue: slackTaskQueueFor(ticketsTaskQueue),
    args: [input],
    signal: slackSyncSignal,
    signalArgs: [tickets],
    // About many tickets: found in the Temporal Web UI by organisation and integration, not by ticket.
    typedSearchAttributes: [
      { key: searchAttributes.OrganizationId, value: ref.organizationId },
      { key: searchAttributes.IntegrationType, value: 'slack' },
    ],
  });
}
