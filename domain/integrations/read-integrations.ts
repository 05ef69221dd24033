import { type Database, type Executor, externalSyncRecords, integrationConfigs } from '@switchboard/database';
import { and, asc, count, eq, inArray, isNotNull } from 'drizzle-orm';
import { notFound } from '../../api/http/errors.ts';
import type { Scope } from '../scope.ts';
import { integrationHealth } from './health.ts';
import type { IntegrationView } from './schemas.ts';

export type IntegrationRow = typeof integrationConfigs.$inferSelect;

/** The only way an integration row leaves the domain: credentials are dropped here, the hint kept. */
export function toIntegrationView(row: IntegrationRow, rateLimitedLinks = 0): IntegrationView {
  return {
    id: row.id,
    integrationType: row.integrationType,
    name: row.name,
    isActive: row.isActive,
    config: row.config as Record<string, unknown>,
    credentialsHint: row.credentialsHint,
    health: integrationHealth(row, rateLimitedLinks),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function listIntegrations(db: Database, scope: Scope): Promise<IntegrationView[]> {
  const rows = await db
    .select()
    .from(integrationConfigs)
    .where(eq(integrationConfigs.organizationId, scope.organizationId))
    .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id));
  const waiting = await rateLimitedLinkCounts(db, scope.organizationId);
  return rows.map((row) => toIntegrationView(row, waiting.get(row.id) ?? 0));
}

/**
 * How many links of each of the organisation's integrations (or of one) wait on a rate limit: what makes an
 * integration `degraded`. A partial index holds only those links, so this reads next to nothing when none waits.
 */
export async function rateLimitedLinkCounts(
  db: Executor,
  organizationId: string,
  integrationId?: string,
): Promise<Map<string, number>> {
  const rows = await db
    .select({ integrationId: externalSyncRecords.integrationConfigId, links: count() })
    .from(externalSyncRecords)
    .where(
      and(
        eq(externalSyncRecords.organizationId, organizationId),
        isNotNull(externalSyncRecords.rateLimitedUntil),
        ...(integrationId ? [eq(externalSyncRecords.integrationConfigId, integrationId)] : []),
      ),
    )
    .groupBy(externalSyncRecords.integrationConfigId);
  return new Map(rows.map((r) => [r.integrationId, r.links]));
}

export async function getIntegration(db: Database, scope: Scope, integrationId: string): Promise<IntegrationView> {
  const [row] = await db
    .select()
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)));
  if (!row) throw notFound('integration');
  const waiting = await rateLimitedLinkCounts(db, scope.organizationId, row.id);
  return toIntegrationView(row, waiting.get(row.id) ?? 0);
}

/**
 * The switched-on integrations of one type across several organisations (a relay batch's): what a subscriber reads
 * once per batch to decide who hears of its events. System work, so not scoped to one organisation.
 */
export function activeIntegrationsOf(db: Database, integrationType: string, organizationIds: readonly string[]) {
  return db
    .select({
      id: integrationConfigs.id,
      organizationId: integrationConfigs.organizationId,
      config: integrationConfigs.config,
      createdAt: integrationConfigs.createdAt,
    })
    .from(integrationConfigs)
    .where(
      and(
        inArray(integrationConfigs.organizationId, [...organizationIds]),
        eq(integrationConfigs.integrationType, integrationType),
        eq(integrationConfigs.isActive, true),
      ),
    );
}
