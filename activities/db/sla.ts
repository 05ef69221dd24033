// The database side of the SLA watch: read the facts a deadline depends on, and record a warning or a breach
// as a ticket event (through the outbox, like every other change), at most once per deadline.
import { appendTicketEvent, type Database, type Executor, supportRequests, ticketEvents } from '@switchboard/database';
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { z } from 'zod';
import type { TicketStatus } from '../../common/enums.ts';
import { type slaKind, ticketEventPayloads } from '../../common/ticket-events.ts';
import { toTicketSnapshot } from '../../domain/tickets/ticket-record.ts';

export type SlaEventType = 'sla.warning' | 'sla.breached';
export type SlaKind = z.infer<typeof slaKind>;

export type SlaTicketFacts = {
  status: TicketStatus;
  createdAt: string;
  firstResponseDueAt: string | null;
  resolutionDueAt: string | null;
  firstRespondedAt: string | null;
  /** SLA events already in the outbox, so a restarted watch does not plan them again. */
  emitted: Array<{ type: SlaEventType; kind: SlaKind; dueAt: string }>;
};

export type EmitSlaEventInput = {
  organizationId: string;
  ticketId: string;
  type: SlaEventType;
  kind: SlaKind;
  dueAt: string;
  /** Share of the window that had passed when the watch fired (warnings only). */
  elapsedShare?: number;
};

/**
 * appended: the event is in the outbox now. already_emitted: an earlier attempt (an activity retry, a restarted
 * watch) wrote it. no_longer_applies: the ticket moved on (deadline changed, answered, solved, deleted) since the
 * watch planned it.
 */
export type EmitSlaEventResult = {
  outcome: 'appended' | 'already_emitted' | 'no_longer_applies';
  eventId: number | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const slaEventTypes: SlaEventType[] = ['sla.warning', 'sla.breached'];

export function createSlaActivities({ db }: { db: Database }) {
  return {
    /** Null when the ticket is gone (or not this organisation's): the watch then has nothing to do. */
    async loadSlaTicket(input: { organizationId: string; ticketId: string }): Promise<SlaTicketFacts | null> {
      const [ticket] = await db
        .select()
        .from(supportRequests)
        .where(and(eq(supportRequests.id, input.ticketId), eq(supportRequests.organizationId, input.organizationId)));
      if (!ticket) return null;
      const emitted = await db
        .select({ type: ticketEvents.type, payload: ticketEvents.payload })
        .from(ticketEvents)
        .where(
          and(
            eq(ticketEvents.supportRequestId, input.ticketId),
            eq(ticketEvents.organizationId, input.organizationId),
            inArray(ticketEvents.type, slaEventTypes),
          ),
        );
      return {
        status: ticket.status,
        createdAt: ticket.createdAt.toISOString(),
        firstResponseDueAt: iso(ticket.firstResponseDueAt),
        resolutionDueAt: iso(ticket.resolutionDueAt),
        firstRespondedAt: iso(ticket.firstRespondedAt),
        emitted: emitted.map((e) => {
          const payload = e.payload as { kind: SlaKind; dueAt: string };
          return { type: e.type as SlaEventType, kind: payload.kind, dueAt: payload.dueAt };
        }),
      };
    },

    /**
     * Locks the ticket row first: that serialises this check-then-append with every other writer of the ticket
     * (and with a concurrent retry of this activity), which is what makes the "already emitted" check exact.
     */
    async emitSlaEvent(input: EmitSlaEventInput): Promise<EmitSlaEventResult> {
      const dueAt = new Date(input.dueAt).toISOString();
      return db.transaction(async (tx) => {
        const [ticket] = await tx
          .select()
          .from(supportRequests)
          .where(and(eq(supportRequests.id, input.ticketId), eq(supportRequests.organizationId, input.organizationId)))
          .for('update');
        if (!ticket || !deadlineStillApplies(ticket, input.kind, dueAt)) {
          return { outcome: 'no_longer_applies', eventId: null };
        }
        const existing = await findSlaEvent(tx, input.ticketId, input.type, input.kind, dueAt);
        if (existing !== null) return { outcome: 'already_emitted', eventId: existing };
        const snapshot = toTicketSnapshot(ticket);
        const payload =
          input.type === 'sla.warning'
            ? ticketEventPayloads['sla.warning'].parse({
                ticket: snapshot,
                kind: input.kind,
                dueAt,
                elapsedShare: input.elapsedShare ?? 1,
              })
            : ticketEventPayloads['sla.breached'].parse({ ticket: snapshot, kind: input.kind, dueAt });
        const row = await appendTicketEvent(tx, {
          organizationId: input.organizationId,
          supportRequestId: input.ticketId,
          type: input.type,
          payload,
          actorType: 'system',
          actorId: null,
        });
        return { outcome: 'appended', eventId: row.id };
      });
    },
  };
}

type TicketRow = typeof supportRequests.$inferSelect;

function deadlineStillApplies(ticket: TicketRow, kind: SlaKind, dueAt: string): boolean {
  if (ticket.status === 'solved' || ticket.status === 'closed') return false;
  const current = kind === 'first_response' ? ticket.firstResponseDueAt : ticket.resolutionDueAt;
  if (iso(current) !== dueAt) return false;
  return kind !== 'first_response' || ticket.firstRespondedAt === null;
}

async function findSlaEvent(
  tx: Executor,
  ticketId: string,
  type: SlaEventType,
  kind: SlaKind,
  dueAt: string,
): Promise<number | null> {
  const [row] = await tx
    .select({ id: ticketEvents.id })
    .from(ticketEvents)
    .where(
      and(
        eq(ticketEvents.supportRequestId, ticketId),
        eq(ticketEvents.type, type),
        sql`${ticketEvents.payload}->>'kind' = ${kind}`,
        sql`${ticketEvents.payload}->>'dueAt' = ${dueAt}`,
      ),
    )
    .limit(1);
  return row ? row.id : null;
}
