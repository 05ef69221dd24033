import assert from 'node:assert/strict';
import { supportRequests, ticketEvents } from '@switchboard/database';
import { and, eq, like } from 'drizzle-orm';
import { ticketEventPayloads } from '../../common/ticket-events.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import { updateTicket } from '../../domain/tickets/update-ticket.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createSlaActivities } from './sla.ts';

describe('SLA activities', () => {
  const { db } = testDatabase();
  const activities = createSlaActivities({ db });
  const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

  async function slaEvents(ticketId: string) {
    return db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.supportRequestId, ticketId), like(ticketEvents.type, 'sla.%')));
  }

  it('writes a warning through the outbox once, however often it is retried', async () => {
    const org = await makeOrganization();
    const dueAt = inAnHour();
    const ticket = await createTicket(db, org.scope, { subject: 'Slow', firstResponseDueAt: dueAt });
    const input = {
      organizationId: org.organizationId,
      ticketId: ticket.id,
      type: 'sla.warning' as const,
      kind: 'first_response' as const,
      dueAt,
      elapsedShare: 0.75,
    };
    const [first, second, concurrent] = await Promise.all([
      activities.emitSlaEvent(input),
      activities.emitSlaEvent(input),
      activities.emitSlaEvent(input),
    ]);
    const outcomes = [first, second, concurrent].map((r) => r.outcome).sort();
    assert.deepEqual(outcomes, ['already_emitted', 'already_emitted', 'appended']);

    const events = await slaEvents(ticket.id);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.dispatchedAt, null, 'it waits in the outbox like any other event');
    assert.deepEqual(events[0]!.actorType, 'system');
    const payload = ticketEventPayloads['sla.warning'].parse(events[0]!.payload);
    assert.equal(payload.ticket.id, ticket.id);
    assert.equal(payload.dueAt, dueAt);
    assert.equal(payload.elapsedShare, 0.75);
  });

  it('writes nothing when the deadline moved, was answered or the ticket was solved since it was planned', async () => {
    const org = await makeOrganization();
    const dueAt = inAnHour();
    const ticket = await createTicket(db, org.scope, { subject: 'Moving', resolutionDueAt: dueAt });
    const moved = await updateTicket(db, org.scope, ticket.id, {
      version: ticket.version,
      resolutionDueAt: new Date(Date.now() + 7_200_000).toISOString(),
    });
    const base = { organizationId: org.organizationId, ticketId: ticket.id, kind: 'resolution' as const };
    const stale = await activities.emitSlaEvent({ ...base, type: 'sla.breached', dueAt });
    assert.deepEqual(stale, { outcome: 'no_longer_applies', eventId: null });

    await updateTicket(db, org.scope, ticket.id, { version: moved.version, status: 'solved' });
    const solved = await activities.emitSlaEvent({ ...base, type: 'sla.breached', dueAt: moved.resolutionDueAt! });
    assert.equal(solved.outcome, 'no_longer_applies');

    const other = await makeOrganization();
    const foreign = await activities.emitSlaEvent({
      ...base,
      organizationId: other.organizationId,
      type: 'sla.breached',
      dueAt,
    });
    assert.equal(foreign.outcome, 'no_longer_applies', "another organisation's ticket is not found");
    assert.equal((await slaEvents(ticket.id)).length, 0);
  });

  it('reads the facts a deadline depends on, with the SLA events already written', async () => {
    const org = await makeOrganization();
    const dueAt = inAnHour();
    const ticket = await createTicket(db, org.scope, { subject: 'Facts', firstResponseDueAt: dueAt });
    await activities.emitSlaEvent({
      organizationId: org.organizationId,
      ticketId: ticket.id,
      type: 'sla.breached',
      kind: 'first_response',
      dueAt,
    });
    const facts = await activities.loadSlaTicket({ organizationId: org.organizationId, ticketId: ticket.id });
    const [row] = await db.select().from(supportRequests).where(eq(supportRequests.id, ticket.id));
    assert.deepEqual(facts, {
      status: 'open',
      createdAt: row!.createdAt.toISOString(),
      firstResponseDueAt: dueAt,
      resolutionDueAt: null,
      firstRespondedAt: null,
      emitted: [{ type: 'sla.breached', kind: 'first_response', dueAt }],
    });
    const other = await makeOrganization();
    assert.equal(await activities.loadSlaTicket({ organizationId: other.organizationId, ticketId: ticket.id }), null);
  });
});
