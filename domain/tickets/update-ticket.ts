import { type Database, supportRequests } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import { conflict } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { assertAssignable } from './assignee.ts';
import { emitTicketEvent } from './events.ts';
import { type TicketView, type UpdateTicketInput, updateTicketInput } from './schemas.ts';
import { loadTicketView, lockTicket, type TicketRow, toTicketSnapshot } from './ticket-record.ts';

type Change = { from: unknown; to: unknown };
const editableFields = [
  'status',
  'priority',
  'assigneeId',
  'tags',
  'subject',
  'firstResponseDueAt',
  'resolutionDueAt',
] as const;
type EditableField = (typeof editableFields)[number];

/**
 * Changes a ticket if the caller saw its current version (optimistic concurrency). Emits
 * `ticket.updated` with every changed field, plus `ticket.status_changed` and `ticket.assigned` when
 * those change; an update that changes nothing writes nothing and keeps the version.
 */
export async function updateTicket(
  db: Database,
  scope: Scope,
  ticketId: string,
  rawInput: UpdateTicketInput,
): Promise<TicketView> {
  const input = parseInput(updateTicketInput, rawInput);
  return db.transaction(async (tx) => {
    // Locking first makes the version check below final: a concurrent writer either committed before
    // (and we see its version) or waits for us (and will see ours).
    const current = await lockTicket(tx, scope.organizationId, ticketId);
    if (current.version !== input.version)
      throw conflict(`the ticket changed since version ${input.version}; it is now at version ${current.version}`, [
        { path: 'version', message: `current version is ${current.version}` },
      ]);
    if (input.assigneeId && input.assigneeId !== current.assigneeId)
      await assertAssignable(tx, scope.organizationId, input.assigneeId);

    const wanted: Partial<Record<EditableField, unknown>> = {
      ...input,
      firstResponseDueAt: toDate(input.firstResponseDueAt),
      resolutionDueAt: toDate(input.resolutionDueAt),
    };
    const changes = diff(current, wanted);
    if (Object.keys(changes).length === 0) return loadTicketView(tx, scope.organizationId, ticketId);

    const set: PgUpdateSetSource<typeof supportRequests> = { version: current.version + 1, updatedAt: sql`now()` };
    for (const field of editableFields) if (field in changes) Object.assign(set, { [field]: wanted[field] });
    if (changes.status) set.solvedAt = solvedAtAfter(current, input.status!);

    const [updated] = await tx
      .update(supportRequests)
      .set(set)
      .where(
        and(
          eq(supportRequests.id, ticketId),
          eq(supportRequests.organizationId, scope.organizationId),
          eq(supportRequests.version, input.version),
        ),
      )
      .returning();
    const ticket = toTicketSnapshot(updated!);
    const payloadChanges = Object.fromEntries(
      Object.entries(changes).map(([field, c]) => [field, { from: toJson(c.from), to: toJson(c.to) }]),
    );
    await emitTicketEvent(tx, scope, ticketId, 'ticket.updated', { ticket, changes: payloadChanges });
    if (changes.status)
      await emitTicketEvent(tx, scope, ticketId, 'ticket.status_changed', {
        ticket,
        from: current.status,
        to: updated!.status,
      });
    if (changes.assigneeId)
      await emitTicketEvent(tx, scope, ticketId, 'ticket.assigned', {
        ticket,
        from: current.assigneeId,
        to: updated!.assigneeId,
      });
    await recordAudit(tx, scope, {
      action: 'ticket.updated',
      entityType: 'ticket',
      entityId: ticketId,
      metadata: { version: updated!.version, changes: payloadChanges },
    });
    return loadTicketView(tx, scope.organizationId, ticketId);
  });
}

const toDate = (value: string | null | undefined) =>
  value === undefined ? undefined : value === null ? null : new Date(value);

/** solvedAt records when the ticket was last solved: set on solving, kept on closing, cleared on reopening. */
function solvedAtAfter(current: TicketRow, status: TicketRow['status']): Date | null {
  if (status === 'solved') return new Date();
  if (status === 'closed') return current.solvedAt ?? new Date();
  return null;
}

function diff(
  current: TicketRow,
  wanted: Partial<Record<EditableField, unknown>>,
): Partial<Record<EditableField, Change>> {
  const changes: Partial<Record<EditableField, Change>> = {};
  for (const field of editableFields) {
    const to = wanted[field];
    if (to === undefined) continue;
    const from = current[field];
    if (!sameValue(from, to)) changes[field] = { from, to };
  }
  return changes;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

const toJson = (value: unknown) => (value instanceof Date ? value.toISOString() : value);
