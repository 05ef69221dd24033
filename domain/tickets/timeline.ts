import { type Database, integrationConfigs, ticketEvents } from '@switchboard/database';
import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Scope } from '../scope.ts';
import type { TicketEventView } from './schemas.ts';
import { assertTicketExists } from './ticket-record.ts';

/** The ticket's events oldest first: the outbox rows double as its history. */
export async function listTicketEvents(db: Database, scope: Scope, ticketId: string): Promise<TicketEventView[]> {
  await assertTicketExists(db, scope.organizationId, ticketId);
  const rows = await db
    .select()
    .from(ticketEvents)
    .where(and(eq(ticketEvents.organizationId, scope.organizationId), eq(ticketEvents.supportRequestId, ticketId)))
    .orderBy(asc(ticketEvents.id));
  const integrationNames = await namesOfIntegrations(
    db,
    scope.organizationId,
    rows.filter((r) => r.actorType === 'integration' && r.actorId).map((r) => r.actorId!),
  );
  return rows.map((row) => ({
    id: row.id,
    type: row.type,
    payload: row.payload,
    actor: {
      type: row.actorType,
      id: row.actorId,
      ...(row.actorType === 'integration' && row.actorId && integrationNames.has(row.actorId)
        ? { name: integrationNames.get(row.actorId)! }
        : {}),
    },
    createdAt: row.createdAt.toISOString(),
    dispatchedAt: row.dispatchedAt ? row.dispatchedAt.toISOString() : null,
  }));
}

/** "Linear (Acme)" for the integrations that wrote events, so the timeline can say who changed the ticket. */
async function namesOfIntegrations(db: Database, organizationId: string, ids: string[]): Promise<Map<string, string>> {
  // Actor ids of integrations are integration_configs ids (uuids); anything else names no installation.
  const uuids = [...new Set(ids)].filter((id) => /^[0-9a-f-]{36}$/i.test(id));
  if (uuids.length === 0) return new Map();
  const rows = await db
    .select({ id: integrationConfigs.id, name: integrationConfigs.name })
    .from(integrationConfigs)
    .where(and(eq(integrationConfigs.organizationId, organizationId), inArray(integrationConfigs.id, uuids)));
  return new Map(rows.map((r) => [r.id, r.name]));
}
