import { type Executor, integrationConfigs } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';

export type IntegrationOutcome =
  | { ok: true; at?: Date }
  /** `error` is shown to admins: describe the failure, never include request bodies or secrets. */
  | { ok: false; error: string; at?: Date; disableReason?: string };

const MAX_ERROR_LENGTH = 1000;

/**
 * What activities report after talking to a third party, and what the health status is derived from.
 * Timestamps only move forward, so a retried attempt that finishes late cannot make an integration look
 * healthier (or sicker) than its latest outcome. `disableReason` is for failures a retry cannot fix
 * (revoked token, deleted endpoint): the integration shows as disabled until an admin switches it on again.
 */
export async function recordIntegrationOutcome(
  db: Executor,
  organizationId: string,
  integrationId: string,
  outcome: IntegrationOutcome,
): Promise<void> {
  const at = outcome.at ?? new Date();
  const scoped = and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, organizationId));
  if (outcome.ok) {
    await db
      .update(integrationConfigs)
      .set({ lastSuccessAt: sql`greatest(${integrationConfigs.lastSuccessAt}, ${at.toISOString()}::timestamptz)` })
      .where(scoped);
    return;
  }
  await db
    .update(integrationConfigs)
    .set({
      lastErrorAt: sql`greatest(${integrationConfigs.lastErrorAt}, ${at.toISOString()}::timestamptz)`,
      lastError: sql`case when ${integrationConfigs.lastErrorAt} is null or ${integrationConfigs.lastErrorAt} <= ${at.toISOString()}::timestamptz
        then ${outcome.error.slice(0, MAX_ERROR_LENGTH)} else ${integrationConfigs.lastError} end`,
      ...(outcome.disableReason ? { disabledReason: outcome.disableReason.slice(0, MAX_ERROR_LENGTH) } : {}),
    })
    .where(scoped);
}
