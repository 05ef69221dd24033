// The Linear subscription's entry point for a ticket event: every link of the ticket that has something to do with
// it gets the event as a signal (Signal-With-Start, so a link whose workflow ended or never ran gets one), and the
// caller learns which installations might create an issue for the ticket by rule.
import { auditLog, externalSyncRecords, integrationConfigs } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import { type AutoCreateRule, linearConfigSchema } from '../../domain/integrations/linear-config.ts';
import { ticketSearchAttributes, workflowIds, workflowTypes } from '../../temporal-config/index.ts';
import { type LinearSyncInput, linearChangeSignal } from '../../workflows/linear-contract.ts';
import { linkHearsOf } from '../../workflows/linear-sync-plan.ts';
import type { LinearActivityDeps } from './call.ts';

type RoutedInstallation = { integrationId: string; autoCreateAll: boolean; rules: AutoCreateRule[]; linked: boolean };

/**
 * The sync workflows run on the tickets queue: the one this activity runs on when it is a local activity of the
 * ticket workflow, or the one a Linear queue serves (`linear` ↔ `tickets`, `<x>.linear` ↔ `<x>`, the inverse of
 * linearTaskQueueFor).
 */
export function ticketsTaskQueueFor(taskQueue: string): string {
  if (taskQueue === 'linear') return 'tickets';
  if (taskQueue.endsWith('.linear')) return taskQueue.slice(0, -'.linear'.length);
  // Run as a local activity of the ticket workflow: already the tickets queue.
  return taskQueue;
}

export async function routeTicketEventToLinear(
  deps: LinearActivityDeps,
  event: DispatchedTicketEvent,
): Promise<{ installations: RoutedInstallation[] }> {
  const installations = await deps.db
    .select({ id: integrationConfigs.id, config: integrationConfigs.config })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.organizationId, event.organizationId),
        eq(integrationConfigs.integrationType, 'linear'),
        eq(integrationConfigs.isActive, true),
      ),
    );
  if (installations.length === 0) return { installations: [] };

  const links = await deps.db
    .select({
      id: externalSyncRecords.id,
      issueId: externalSyncRecords.externalId,
      integrationId: externalSyncRecords.integrationConfigId,
    })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, event.organizationId),
        eq(externalSyncRecords.supportRequestId, event.ticketId),
        inArray(
          externalSyncRecords.integrationConfigId,
          installations.map((i) => i.id),
        ),
      ),
    );

  const taskQueue = ticketsTaskQueueFor(Context.current().info.taskQueue);
  const linksOf = (integrationId: string) => links.filter((l) => l.integrationId === integrationId).length;
  const hearing = links.filter((link) =>
    linkHearsOf(event, {
      integrationId: link.integrationId,
      onlyLinkOfItsInstallation: linksOf(link.integrationId) === 1,
    }),
  );
  await Promise.all(
    hearing.map((link) => {
      const input: LinearSyncInput = {
        organizationId: event.organizationId,
        ticketId: event.ticketId,
        linkId: link.id,
        integrationId: link.integrationId,
        issueId: link.issueId,
      };
      return deps.temporalClient.workflow.signalWithStart(workflowTypes.linearSync, {
        workflowId: workflowIds.linearSync(event.ticketId, link.issueId),
        taskQueue,
        args: [input],
        signal: linearChangeSignal,
        signalArgs: [{ kind: 'ticket-event', event }],
        typedSearchAttributes: ticketSearchAttributes(event.ticketId, event.organizationId, 'linear'),
      });
    }),
  );

  const linked = new Set(links.map((l) => l.integrationId));
  const routed = installations.map((installation): RoutedInstallation => {
    const parsed = linearConfigSchema.safeParse(installation.config ?? {});
    return {
      integrationId: installation.id,
      autoCreateAll: parsed.success ? parsed.data.autoCreateIssues : false,
      rules: parsed.success ? parsed.data.autoCreateRules : [],
      linked: linked.has(installation.id),
    };
  });
  const unlinked = await unlinkedByHand(deps, event, routed);
  return { installations: routed.map((i) => (unlinked.has(i.integrationId) ? { ...i, linked: true } : i)) };
}

/**
 * Installations whose issue someone unlinked from this ticket. A rule must not link the ticket again: its
 * automatic issue's workflow id stops a second one only while Temporal keeps the closed run, and a rule firing
 * after that would find the issue it created by its derived id and undo the unlink. Asked only for installations
 * that could create by rule and have no link now.
 */
async function unlinkedByHand(
  deps: LinearActivityDeps,
  event: DispatchedTicketEvent,
  installations: RoutedInstallation[],
): Promise<Set<string>> {
  const candidates = installations
    .filter((i) => !i.linked && (i.autoCreateAll || i.rules.length > 0))
    .map((i) => i.integrationId);
  if (candidates.length === 0) return new Set();
  const rows = await deps.db
    .selectDistinct({ integrationId: sql<string>`${auditLog.metadata}->>'integrationId'` })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.organizationId, event.organizationId),
        eq(auditLog.entityType, 'ticket'),
        eq(auditLog.entityId, event.ticketId),
        eq(auditLog.action, 'linear.issue_unlinked'),
        inArray(sql<string>`${auditLog.metadata}->>'integrationId'`, candidates),
      ),
    );
  return new Set(rows.map((r) => r.integrationId));
}
