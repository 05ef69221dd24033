// What the health monitor shows of each webhook endpoint: its recorded outcomes, and the deliveries waiting for it.
import { webhookDeliveries } from '@switchboard/database';
import { and, count, eq, inArray } from 'drizzle-orm';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { integrationRowReport } from '../../../domain/integrations/health.ts';

export const webhookHealth: NonNullable<IntegrationServer['health']> = async (
  deps,
  { organizationId, integrations },
) => {
  if (integrations.length === 0) return [];
  const pending = await deps.db
    .select({ endpointId: webhookDeliveries.endpointId, deliveries: count() })
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.organizationId, organizationId),
        inArray(
          webhookDeliveries.endpointId,
          integrations.map((i) => i.id),
        ),
        eq(webhookDeliveries.status, 'pending'),
      ),
    )
    .groupBy(webhookDeliveries.endpointId);
  const waiting = new Map(pending.map((p) => [p.endpointId, p.deliveries]));
  return integrations.map((row) =>
    integrationRowReport(row, {
      backlog: { count: waiting.get(row.id) ?? 0, description: 'deliveries pending' },
    }),
  );
};
