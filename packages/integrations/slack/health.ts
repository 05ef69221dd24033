// What the health monitor shows of each Slack installation: its recorded outcomes, whether the workspace is still
// connected (and why not), the tickets whose Slack work is paused, and what arrived from Slack and waits to apply.
import { slackInbound, slackPausedThreads, slackWorkspaces } from '@switchboard/database';
import { and, count, eq, inArray } from 'drizzle-orm';
import type { IntegrationServer } from '../../../common/integration-contract.ts';
import { integrationRowReport } from '../../../domain/integrations/health.ts';

export const slackHealth: NonNullable<IntegrationServer['health']> = async (deps, { organizationId, integrations }) => {
  if (integrations.length === 0) return [];
  const ids = integrations.map((i) => i.id);
  const [workspaces, paused, unapplied] = await Promise.all([
    deps.db
      .select({ integrationId: slackWorkspaces.integrationId, reason: slackWorkspaces.disconnectedReason })
      .from(slackWorkspaces)
      .where(and(eq(slackWorkspaces.organizationId, organizationId), inArray(slackWorkspaces.integrationId, ids))),
    deps.db
      .select({ integrationId: slackPausedThreads.integrationId, tickets: count() })
      .from(slackPausedThreads)
      .where(and(eq(slackPausedThreads.organizationId, organizationId), inArray(slackPausedThreads.integrationId, ids)))
      .groupBy(slackPausedThreads.integrationId),
    deps.db
      .select({ integrationId: slackInbound.integrationId, requests: count() })
      .from(slackInbound)
      .where(
        and(
          eq(slackInbound.organizationId, organizationId),
          inArray(slackInbound.integrationId, ids),
          eq(slackInbound.status, 'received'),
        ),
      )
      .groupBy(slackInbound.integrationId),
  ]);
  const disconnected = new Map(workspaces.map((w) => [w.integrationId, w.reason]));
  const pausedTickets = new Map(paused.map((p) => [p.integrationId, p.tickets]));
  const waiting = new Map(unapplied.map((u) => [u.integrationId, u.requests]));
  return integrations.map((row) => {
    const reason = disconnected.get(row.id);
    const tickets = pausedTickets.get(row.id) ?? 0;
    return integrationRowReport(row, {
      disconnected: reason ? `Slack disconnected the workspace (${reason}): install the app again to resume` : null,
      heldBack: tickets > 0 ? `${tickets} ticket(s) paused until the workspace is connected again` : null,
      backlog: {
        count: tickets + (waiting.get(row.id) ?? 0),
        description: 'paused tickets and Slack requests waiting to apply',
      },
    });
  });
};
