import { type Database, integrationConfigs } from '@switchboard/database';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { notFound } from '../../api/http/errors.ts';
import type { Scope } from '../scope.ts';
import { integrationHealth } from './health.ts';
import type { IntegrationView } from './schemas.ts';

export type IntegrationRow = typeof integrationConfigs.$inferSelect;

/** The only way an integration row leaves the domain: credentials are dropped here, the hint kept. */
export function toIntegrationView(row: IntegrationRow): IntegrationView {
  return {
    id: row.id,
    integrationType: row.integrationType,
    name: row.name,
    isActive: row.isActive,
    config: row.config as Record<string, unknown>,
    credentialsHint: row.credentialsHint,
    health: integrationHealth(row),
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
  return rows.map(toIntegrationView);
}

export async function getIntegration(db: Database, scope: Scope, integrationId: string): Promise<IntegrationView> {
  const [row] = await db
    .select()
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.id, integrationId), eq(integrationConfigs.organizationId, scope.organizationId)));
  if (!row) throw notFound('integration');
  return toIntegrationView(row);
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
