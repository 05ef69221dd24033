import { type Database, integrationConfigs, ticketEvents } from '@switchboard/database';
import { and, asc, desc, eq, gt, inArray, lt } from 'drizzle-orm';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { decodeIdCursor, encodeIdCursor } from './cursor.ts';
import { type TicketEventView, type TimelinePageQuery, timelinePageQuery } from './schemas.ts';
import { assertTicketExists } from './ticket-record.ts';

export type TicketEventPage = { data: TicketEventView[]; nextCursor: string | null };

/** One page of the ticket's events, oldest first (or newest first with order desc): the outbox rows double as its history. */
export async function listTicketEvents(
  db: Database,
  scope: Scope,
  ticketId: string,
  rawQuery: TimelinePageQuery = {},
): Promise<TicketEventPage> {
  const query = parseInput(timelinePageQuery, rawQuery);
  const after = query.cursor ? decodeIdCursor(query.cursor) : null;
  await assertTicketExists(db, scope.organizationId, ticketId);
  const ascending = query.order === 'asc';
  const found = await db
    .select()
    .from(ticketEvents)
    .where(
      and(
        eq(ticketEvents.organizationId, scope.organizationId),
        eq(ticketEvents.supportRequestId, ticketId),
        after === null ? undefined : ascending ? gt(ticketEvents.id, after) : lt(ticketEvents.id, after),
      ),
    )
    .orderBy(ascending ? asc(ticketEvents.id) : desc(ticketEvents.id))
    .limit(query.limit + 1);
  const rows = found.slice(0, query.limit);
  const last = rows.at(-1);
  const nextCursor = found.length > query.limit && last ? encodeIdCursor(last.id) : null;
  const integrationNames = await namesOfIntegrations(
    db,
    scope.organizationId,
    rows.filter((r) => r.actorType === 'integration' && r.actorId).map((r) => r.actorId!),
  );
  const data = rows.map((row) => ({
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
  return { data, nextCursor };
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
