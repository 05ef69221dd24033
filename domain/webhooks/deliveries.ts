// The delivery log: what was sent to an endpoint, newest first, and each delivery's attempts and exact body.
import { type Executor, webhookAttempts, webhookDeliveries, webhookMessages } from '@switchboard/database';
import { and, asc, desc, eq, type SQL, sql } from 'drizzle-orm';
import { notFound } from '../../common/errors.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { decodeCursor, encodeCursor } from '../tickets/cursor.ts';
import { loadEndpointRow } from './endpoint-record.ts';
import {
  type attemptOutcomes,
  type ListDeliveriesQuery,
  listDeliveriesQuery,
  type WebhookDeliveryDetailView,
  type WebhookDeliveryView,
} from './schemas.ts';

export type DeliveryPage = { data: WebhookDeliveryView[]; nextCursor: string | null };

const deliveryColumns = {
  delivery: webhookDeliveries,
  eventType: webhookMessages.eventType,
  ticketId: webhookMessages.ticketId,
};

type DeliveryRow = { delivery: typeof webhookDeliveries.$inferSelect; eventType: string; ticketId: string | null };

export function toDeliveryView({ delivery, eventType, ticketId }: DeliveryRow): WebhookDeliveryView {
  return {
    id: delivery.id,
    endpointId: delivery.endpointId,
    messageId: delivery.messageId,
    eventType,
    ticketId,
    status: delivery.status,
    attemptCount: delivery.attemptCount,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    lastAttemptAt: delivery.lastAttemptAt?.toISOString() ?? null,
    createdAt: delivery.createdAt.toISOString(),
  };
}

/** Keyset pagination over (created_at, id) like the ticket list: a delivery created meanwhile never shifts a page. */
export async function listDeliveries(
  db: Executor,
  scope: Scope,
  endpointId: string,
  rawQuery: ListDeliveriesQuery,
): Promise<DeliveryPage> {
  const query = parseInput(listDeliveriesQuery, rawQuery);
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  await loadEndpointRow(db, scope, endpointId);
  const conditions: Array<SQL | undefined> = [
    eq(webhookDeliveries.organizationId, scope.organizationId),
    eq(webhookDeliveries.endpointId, endpointId),
    query.status ? eq(webhookDeliveries.status, query.status) : undefined,
    after
      ? sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (${after.createdAt}::timestamptz, ${after.id}::uuid)`
      : undefined,
  ];
  const rows = await db
    .select({
      ...deliveryColumns,
      cursorTime: sql<string>`to_char(${webhookDeliveries.createdAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
    })
    .from(webhookDeliveries)
    .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
    .where(and(...conditions))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: page.map(toDeliveryView),
    nextCursor:
      rows.length > query.limit && last ? encodeCursor({ createdAt: last.cursorTime, id: last.delivery.id }) : null,
  };
}

export async function loadDelivery(db: Executor, scope: Scope, deliveryId: string) {
  const [row] = await db
    .select({ ...deliveryColumns, payload: webhookMessages.payload })
    .from(webhookDeliveries)
    .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.organizationId, scope.organizationId)));
  if (!row) throw notFound('webhook delivery');
  return row;
}

/**
 * An attempt is written as `sending` before its request goes out and gets its outcome after the answer. Still
 * `sending` while the delivery's lease holds for this very attempt, it is on the wire; otherwise the worker stopped
 * (killed, crashed, lost its lease) before it could record the answer, and nobody will: outcome unknown.
 */
function attemptOutcome(
  attempt: typeof webhookAttempts.$inferSelect,
  delivery: typeof webhookDeliveries.$inferSelect,
  now: number,
): (typeof attemptOutcomes)[number] {
  if (attempt.outcome !== 'sending') return attempt.outcome as (typeof attemptOutcomes)[number];
  const onTheWire =
    delivery.attemptCount === attempt.attemptNumber &&
    delivery.leaseUntil !== null &&
    delivery.leaseUntil.getTime() > now;
  return onTheWire ? 'sending' : 'unknown';
}

/** The delivery with every attempt, oldest first, and the exact JSON body that was (or will be) sent. */
export async function getDelivery(db: Executor, scope: Scope, deliveryId: string): Promise<WebhookDeliveryDetailView> {
  const row = await loadDelivery(db, scope, deliveryId);
  const attempts = await db
    .select()
    .from(webhookAttempts)
    .where(and(eq(webhookAttempts.deliveryId, deliveryId), eq(webhookAttempts.organizationId, scope.organizationId)))
    .orderBy(asc(webhookAttempts.attemptNumber), asc(webhookAttempts.id));
  const now = Date.now();
  return {
    ...toDeliveryView(row),
    attempts: attempts.map((a) => ({
      id: a.id,
      attemptNumber: a.attemptNumber,
      startedAt: a.startedAt.toISOString(),
      durationMs: a.durationMs,
      statusCode: a.statusCode,
      responseExcerpt: a.responseExcerpt,
      errorClass: a.errorClass,
      outcome: attemptOutcome(a, row.delivery, now),
    })),
    payload: row.payload,
  };
}
