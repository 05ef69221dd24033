// The link row for a ticket and an issue: inserted once, found again by any later request for the same pair.
import { externalSyncRecords, integrationConfigs, supportRequests } from '@switchboard/database';
import { ApplicationFailure } from '@temporalio/common';
import { and, eq } from 'drizzle-orm';
import type { LinearActivityDeps } from './call.ts';
import type { LinearIssueDisplay } from './contract.ts';
import type { LinkState } from './link-status.ts';

export async function recordLink(
  deps: LinearActivityDeps,
  request: {
    organizationId: string;
    ticketId: string;
    integrationId: string;
    issue: LinearIssueDisplay;
    origin?: 'created' | 'linked';
  },
): Promise<{ linkId: string; created: boolean }> {
  const { db } = deps;
  // The foreign keys would accept another organisation's ticket or installation: check both belong to this one.
  const [ticket] = await db
    .select({ id: supportRequests.id })
    .from(supportRequests)
    .where(and(eq(supportRequests.id, request.ticketId), eq(supportRequests.organizationId, request.organizationId)));
  const [installation] = await db
    .select({ id: integrationConfigs.id })
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.id, request.integrationId),
        eq(integrationConfigs.organizationId, request.organizationId),
        eq(integrationConfigs.integrationType, 'linear'),
      ),
    );
  if (!ticket || !installation)
    throw ApplicationFailure.create({
      type: ticket ? 'LinearNotConnected' : 'TicketNotFound',
      message: ticket ? 'the Linear installation no longer exists' : `ticket ${request.ticketId} does not exist`,
      nonRetryable: true,
    });

  const state: LinkState = { issue: request.issue, origin: request.origin ?? 'created' };
  const [inserted] = await db
    .insert(externalSyncRecords)
    .values({
      organizationId: request.organizationId,
      supportRequestId: request.ticketId,
      integrationConfigId: request.integrationId,
      externalId: request.issue.id,
      externalKey: request.issue.identifier,
      externalUrl: request.issue.url,
      syncStatus: 'pending',
      state,
    })
    .onConflictDoNothing()
    .returning({ id: externalSyncRecords.id });
  if (inserted) return { linkId: inserted.id, created: true };
  const [existing] = await db
    .select({ id: externalSyncRecords.id })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, request.organizationId),
        eq(externalSyncRecords.supportRequestId, request.ticketId),
        eq(externalSyncRecords.integrationConfigId, request.integrationId),
        eq(externalSyncRecords.externalId, request.issue.id),
      ),
    );
  return { linkId: existing!.id, created: false };
}
