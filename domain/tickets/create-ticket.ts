import { type Database, type Executor, supportRequests } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { recordAudit } from '../audit.ts';
import { parseInput } from '../parse-input.ts';
import type { Scope } from '../scope.ts';
import { assertAssignable } from './assignee.ts';
import { emitTicketEvent } from './events.ts';
import { type CreateTicketInput, createTicketInput, type TicketView } from './schemas.ts';
import { loadTicketView, toTicketSnapshot } from './ticket-record.ts';

/**
 * Opens a ticket: numbers it, finds or creates its requester, and records `ticket.created` and the
 * audit row, all in one transaction (so a failed insert burns no number and leaves no orphan event).
 */
export async function createTicket(db: Database, scope: Scope, rawInput: CreateTicketInput): Promise<TicketView> {
  const input = parseInput(createTicketInput, rawInput);
  return db.transaction(async (tx) => {
    if (input.assigneeId) await assertAssignable(tx, scope.organizationId, input.assigneeId);
    const requesterId = input.requesterEmail
      ? await findOrCreateRequester(tx, scope.organizationId, input.requesterEmail, input.requesterName)
      : null;
    const number = await nextTicketNumber(tx, scope.organizationId);
    const status = input.status ?? 'open';
    const [ticket] = await tx
      .insert(supportRequests)
      .values({
        organizationId: scope.organizationId,
        number,
        subject: input.subject,
        description: input.description ?? '',
        status,
        priority: input.priority ?? 'normal',
        requesterId,
        assigneeId: input.assigneeId ?? null,
        tags: input.tags ?? [],
        channel: input.channel ?? (scope.actor.type === 'api_key' ? 'api' : 'web'),
        firstResponseDueAt: input.firstResponseDueAt ? new Date(input.firstResponseDueAt) : null,
        resolutionDueAt: input.resolutionDueAt ? new Date(input.resolutionDueAt) : null,
        solvedAt: status === 'solved' || status === 'closed' ? sql`now()` : null,
      })
      .returning();
    await emitTicketEvent(tx, scope, ticket!.id, 'ticket.created', { ticket: toTicketSnapshot(ticket!) });
    await recordAudit(tx, scope, {
      action: 'ticket.created',
      entityType: 'ticket',
      entityId: ticket!.id,
      metadata: { number },
    });
    return loadTicketView(tx, scope.organizationId, ticket!.id);
  });
}

/**
 * The organisation's next ticket number. The upsert takes a row lock on the counter that is held until
 * commit, so concurrent creates queue here and numbers are gap-free and unique.
 */
async function nextTicketNumber(tx: Executor, organizationId: string): Promise<number> {
  const result = await tx.execute<{ last_ticket_number: number }>(sql`
    insert into organization_counters (organization_id, last_ticket_number) values (${organizationId}, 1)
    on conflict (organization_id)
    do update set last_ticket_number = organization_counters.last_ticket_number + 1
    returning last_ticket_number`);
  return result.rows[0]!.last_ticket_number;
}

/** Requesters are one row per email per organisation, whatever the case of the address. A known name is kept. */
async function findOrCreateRequester(
  tx: Executor,
  organizationId: string,
  email: string,
  name: string | undefined,
): Promise<string> {
  const result = await tx.execute<{ id: string }>(sql`
    insert into customers (organization_id, email, name) values (${organizationId}, ${email}, ${name ?? null})
    on conflict (organization_id, lower(email))
    do update set name = coalesce(customers.name, excluded.name)
    returning id`);
  return result.rows[0]!.id;
}
