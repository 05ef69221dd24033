import { type Executor, integrationConfigs } from '@switchboard/database';
import { and, asc, eq } from 'drizzle-orm';
import type { Scope } from '../scope.ts';
import { endpointHealth } from './endpoint-health.ts';
import { type EndpointRow, loadEndpointRow, toEndpointView } from './endpoint-record.ts';
import type { WebhookEndpointView } from './schemas.ts';

/** Oldest first, each with its health. */
export async function listEndpoints(db: Executor, scope: Scope): Promise<WebhookEndpointView[]> {
  const rows = await db
    .select()
    .from(integrationConfigs)
    .where(
      and(
        eq(integrationConfigs.organizationId, scope.organizationId),
        eq(integrationConfigs.integrationType, 'webhook'),
      ),
    )
    .orderBy(asc(integrationConfigs.createdAt), asc(integrationConfigs.id));
  return withHealth(db, rows);
}

export async function getEndpoint(db: Executor, scope: Scope, endpointId: string): Promise<WebhookEndpointView> {
  const [view] = await withHealth(db, [await loadEndpointRow(db, scope, endpointId)]);
  return view!;
}

export async function withHealth(db: Executor, rows: EndpointRow[]): Promise<WebhookEndpointView[]> {
  const health = await endpointHealth(db, rows);
  return rows.map((row) => toEndpointView(row, health.get(row.id)!));
}
