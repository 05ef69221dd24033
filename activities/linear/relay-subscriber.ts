// Linear as a workflow subscriber of the outbox relay. The facts come from two queries for the whole batch: the
// organisations' active Linear installations (none: the batch costs nothing more), then the links of the batch's
// tickets. Each link that hears of some of its ticket's events gets them in one signal (Signal-With-Start
// `linear-sync/<ticket>/<issue>`, so a link whose workflow ended gets a new one); an installation whose
// auto-create rule matches an event of an unlinked ticket gets its issue-creating workflow started, at most once
// per ticket and installation ever (its workflow id and reuse policy).
import { auditLog, externalSyncRecords } from '@switchboard/database';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { groupBy } from '../../common/group-by.ts';
import type { RelaySend, RelaySubscriber } from '../../common/integration-contract.ts';
import type { DispatchedTicketEvent, TicketSnapshot } from '../../common/ticket-events.ts';
import { linearConfigSchema } from '../../domain/integrations/linear-config.ts';
import { ticketSearchAttributes, workflowIds, workflowTypes } from '../../temporal-config/index.ts';
import {
  type LinearIssueRequest,
  type LinearLinkChange,
  type LinearSyncInput,
  linearChangeSignal,
  linearChangesSignal,
} from '../../workflows/linear-contract.ts';
import { autoCreateMatches, linkHearsOf } from '../../workflows/linear-sync-plan.ts';

type Installation = { id: string; organizationId: string; autoCreateAll: boolean; rules: AutoRule[] };
type AutoRule = Parameters<typeof autoCreateMatches>[0]['rules'][number];
type Link = { id: string; ticketId: string; issueId: string; integrationId: string };

export function linearRelaySubscriber(): RelaySubscriber {
  return {
    name: 'linear',
    kind: 'workflow',
    integrationTypes: ['linear'],
    async plan(events, ctx) {
      const rows = await ctx.activeIntegrations('linear');
      if (rows.length === 0) return [];
      const installations: Installation[] = rows.map((row) => {
        const parsed = linearConfigSchema.safeParse(row.config ?? {});
        return {
          id: row.id,
          organizationId: row.organizationId,
          autoCreateAll: parsed.success ? parsed.data.autoCreateIssues : false,
          rules: parsed.success ? parsed.data.autoCreateRules : [],
        };
      });
      const withLinear = new Set(installations.map((i) => i.organizationId));
      const relevant = events.filter((e) => withLinear.has(e.organizationId));
      if (relevant.length === 0) return [];

      const links: Link[] = await ctx.db
        .select({
          id: externalSyncRecords.id,
          ticketId: externalSyncRecords.supportRequestId,
          issueId: externalSyncRecords.externalId,
          integrationId: externalSyncRecords.integrationConfigId,
        })
        .from(externalSyncRecords)
        .where(
          and(
            inArray(externalSyncRecords.supportRequestId, [...new Set(relevant.map((e) => e.ticketId))]),
            inArray(
              externalSyncRecords.integrationConfigId,
              installations.map((i) => i.id),
            ),
          ),
        );
      const linksOf = groupBy(links, (l) => l.ticketId);

      const sends: RelaySend[] = [];
      const candidates: Array<{ ticketId: string; installation: Installation; event: DispatchedTicketEvent }> = [];
      for (const [ticketId, ofTicket] of groupBy(relevant, (e) => e.ticketId)) {
        const ticketLinks = linksOf.get(ticketId) ?? [];
        for (const link of ticketLinks) {
          const onlyLinkOfItsInstallation =
            ticketLinks.filter((l) => l.integrationId === link.integrationId).length === 1;
          const heard = ofTicket.filter((event) =>
            linkHearsOf(event, { integrationId: link.integrationId, onlyLinkOfItsInstallation }),
          );
          if (heard.length > 0) sends.push(signalLink(ctx, link, heard));
        }
        const linked = new Set(ticketLinks.map((l) => l.integrationId));
        for (const installation of installations) {
          if (installation.organizationId !== ofTicket[0]!.organizationId || linked.has(installation.id)) continue;
          const match = ofTicket.find((event) =>
            autoCreateMatches({ ...installation, linked: false }, event.type, ticketOf(event)),
          );
          if (match) candidates.push({ ticketId, installation, event: match });
        }
      }
      if (candidates.length === 0) return sends;
      const unlinked = await unlinkedByHand(ctx.db, candidates);
      for (const candidate of candidates) {
        if (unlinked.has(`${candidate.ticketId}|${candidate.installation.id}`)) continue;
        sends.push(startAutoCreate(ctx, candidate.event, candidate.installation.id));
      }
      return sends;
    },
  };
}

function ticketOf(event: DispatchedTicketEvent): TicketSnapshot | null {
  return (event.payload as { ticket?: TicketSnapshot } | null)?.ticket ?? null;
}

function signalLink(
  ctx: Parameters<RelaySubscriber['plan']>[1],
  link: Link,
  events: DispatchedTicketEvent[],
): RelaySend {
  const first = events[0]!;
  const input: LinearSyncInput = {
    organizationId: first.organizationId,
    ticketId: link.ticketId,
    linkId: link.id,
    integrationId: link.integrationId,
    issueId: link.issueId,
  };
  const changes: LinearLinkChange[] = events.map((event) => ({ kind: 'ticket-event', event }));
  const workflowId = workflowIds.linearSync(link.ticketId, link.issueId);
  const options = {
    workflowId,
    taskQueue: ctx.ticketsTaskQueue,
    args: [input] as [LinearSyncInput],
    typedSearchAttributes: ticketSearchAttributes(link.ticketId, first.organizationId, 'linear'),
  };
  return {
    target: workflowId,
    ticketIds: [link.ticketId],
    send: async () => {
      await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
        changes.length === 1
          ? ctx.temporal.workflow.signalWithStart(workflowTypes.linearSync, {
              ...options,
              signal: linearChangeSignal,
              signalArgs: [changes[0]!],
            })
          : ctx.temporal.workflow.signalWithStart(workflowTypes.linearSync, {
              ...options,
              signal: linearChangesSignal,
              signalArgs: [changes],
            }),
      );
    },
  };
}

function startAutoCreate(
  ctx: Parameters<RelaySubscriber['plan']>[1],
  event: DispatchedTicketEvent,
  integrationId: string,
): RelaySend {
  const requestKey = `auto/${integrationId}`;
  const workflowId = workflowIds.linearIssue(event.ticketId, requestKey);
  const request: LinearIssueRequest = {
    organizationId: event.organizationId,
    ticketId: event.ticketId,
    integrationId,
    requestKey,
    requestedBy: { type: 'system', id: null },
    mode: 'create',
    auto: true,
  };
  return {
    target: workflowId,
    ticketIds: [event.ticketId],
    async send() {
      try {
        await ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
          ctx.temporal.workflow.start(workflowTypes.linearIssue, {
            workflowId,
            taskQueue: ctx.ticketsTaskQueue,
            args: [request],
            // One automatic issue per ticket and installation, ever: a completed run blocks the next (also after
            // an unlink); a failed one (say, the token was revoked) lets a later event try again.
            workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            typedSearchAttributes: ticketSearchAttributes(event.ticketId, event.organizationId, 'linear'),
          }),
        );
      } catch (err) {
        // Already being created (an earlier batch), or created before.
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      }
    },
  };
}

/**
 * (ticket, installation) pairs whose issue someone unlinked by hand. A rule must not link the ticket again: the
 * automatic issue's workflow id stops a second one only while Temporal keeps the closed run, and a rule firing
 * after that would find the issue it created by its derived id and undo the unlink.
 */
async function unlinkedByHand(
  db: Parameters<RelaySubscriber['plan']>[1]['db'],
  candidates: Array<{ ticketId: string; installation: Installation }>,
): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({
      ticketId: auditLog.entityId,
      integrationId: sql<string>`${auditLog.metadata}->>'integrationId'`,
    })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.entityType, 'ticket'),
        inArray(auditLog.entityId, [...new Set(candidates.map((c) => c.ticketId))]),
        eq(auditLog.action, 'linear.issue_unlinked'),
        inArray(sql<string>`${auditLog.metadata}->>'integrationId'`, [
          ...new Set(candidates.map((c) => c.installation.id)),
        ]),
      ),
    );
  return new Set(rows.map((r) => `${r.ticketId}|${r.integrationId}`));
}
