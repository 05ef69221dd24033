// What the health monitor shows of each Linear installation: its recorded outcomes, the link changes still to reach
// Linear (links waiting for their sync), and the links that wait on Linear's rate limit (degraded).
import { externalSyncRecords } from '@switchboard/database';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { integrationRowReport } from '../../../domain/integrations/health.ts';

export const linearHealth: NonNullable<IntegrationServer['health']> = async (
  deps,
  { organizationId, integrations },
) => {
  if (integrations.length === 0) return [];
  const links = await deps.db
    .select({
      integrationId: externalSyncRecords.integrationConfigId,
      queued: sql<number>`count(*) filter (where ${externalSyncRecords.syncStatus} = 'pending'
        or ${externalSyncRecords.rateLimitedUntil} is not null)::int`,
      rateLimited: sql<number>`count(*) filter (where ${externalSyncRecords.rateLimitedUntil} is not null)::int`,
    })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, organizationId),
        inArray(
          externalSyncRecords.integrationConfigId,
          integrations.map((i) => i.id),
        ),
      ),
    )
    .groupBy(externalSyncRecords.integrationConfigId);
  const byInstallation = new Map(links.map((l) => [l.integrationId, l]));
  return integrations.map((row) => {
    const l = byInstallation.get(row.id);
    // A link that failed for its own reason (its issue deleted) says so on its ticket; it does not make the
    // installation unhealthy.
    return integrationRowReport(row, {
      backlog: { count: l?.queued ?? 0, description: 'link changes waiting to reach Linear' },
      heldBack: l?.rateLimited ? `${l.rateLimited} link(s) wait on Linear's rate limit` : null,
      ticketLevelSync: true,
    });
  });
};
