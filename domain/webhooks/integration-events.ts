// Endpoint events shown to admins beside the endpoint (disabled, enabled, secret rotated): what happened to the
// endpoint itself, as opposed to its deliveries. Payloads never hold secrets, nor a URL's path or query.
import { type Executor, integrationEvents } from '@switchboard/database';
import { and, desc, eq } from 'drizzle-orm';
import type { Scope } from '../scope.ts';
import { loadEndpointRow } from './endpoint-record.ts';
import type { IntegrationEventView } from './schemas.ts';
import { endpointEventView } from './url-visibility.ts';

export type EndpointEventType = 'endpoint.created' | 'endpoint.enabled' | 'endpoint.disabled' | 'secret.rotated';

/** Who did it, so the dashboard can tell an admin's switch-off from the system's. */
export async function recordEndpointEvent(
  tx: Executor,
  scope: Scope,
  endpointId: string,
  type: EndpointEventType,
  payload: Record<string, unknown> = {},
): Promise<void> {
  await tx.insert(integrationEvents).values({
    organizationId: scope.organizationId,
    integrationConfigId: endpointId,
    type,
    payload: { ...payload, actor: scope.actor },
  });
}

const MAX_EVENTS = 100;

/** Newest first, the latest hundred. */
export async function listEndpointEvents(
  db: Executor,
  scope: Scope,
  endpointId: string,
): Promise<IntegrationEventView[]> {
  await loadEndpointRow(db, scope, endpointId);
  const rows = await db
    .select()
    .from(integrationEvents)
    .where(
      and(
        eq(integrationEvents.organizationId, scope.organizationId),
        eq(integrationEvents.integrationConfigId, endpointId),
      ),
    )
    .orderBy(desc(integrationEvents.id))
    .limit(MAX_EVENTS);
  return rows.map((r) =>
    endpointEventView({
      id: r.id,
      type: r.type,
      payload: r.payload as Record<string, unknown>,
      createdAt: r.createdAt.toISOString(),
    }),
  );
}
