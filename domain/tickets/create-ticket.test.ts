import assert from 'node:assert/strict';
import { auditLog, customers, ticketEvents } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { ticketEventPayloads } from '../../common/ticket-events.ts';
import { testDatabase } from '../../test/support/database.ts';
import { httpError, makeOrganization, writeCounts } from '../test-fixtures.ts';
import { createTicket } from './create-ticket.ts';

describe('createTicket', () => {
  const { db } = testDatabase();

  it('numbers tickets per organisation, starting at 1 in each', async () => {
    const a = await makeOrganization();
    const b = await makeOrganization();
    const a1 = await createTicket(db, a.scope, { subject: 'first in A' });
    const a2 = await createTicket(db, a.scope, { subject: 'second in A' });
    const b1 = await createTicket(db, b.scope, { subject: 'first in B' });
    assert.deepEqual([a1.number, a2.number, b1.number], [1, 2, 1]);
  });

  it('gives concurrent creates distinct, gap-free numbers', async () => {
    const org = await makeOrganization();
    const tickets = await Promise.all(
      Array.from({ length: 8 }, (_, i) => createTicket(db, org.scope, { subject: `ticket ${i}` })),
    );
    assert.deepEqual(
      tickets.map((t) => t.number).sort((x, y) => x - y),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
  });

  it('applies defaults and returns the ticket at version 1', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: '  Printer on fire  ' });
    assert.equal(ticket.subject, 'Printer on fire');
    assert.equal(ticket.status, 'open');
    assert.equal(ticket.priority, 'normal');
    assert.equal(ticket.channel, 'web');
    assert.equal(ticket.description, '');
    assert.deepEqual(ticket.tags, []);
    assert.equal(ticket.requester, null);
    assert.equal(ticket.version, 1);
  });

  it('finds the requester by email whatever its case, and keeps a name it already knows', async () => {
    const org = await makeOrganization();
    const first = await createTicket(db, org.scope, {
      subject: 'a',
      requesterEmail: 'Ada@Example.com',
      requesterName: 'Ada',
    });
    const second = await createTicket(db, org.scope, {
      subject: 'b',
      requesterEmail: 'ada@example.COM',
      requesterName: 'Someone else',
    });
    assert.equal(second.requester!.id, first.requester!.id);
    assert.equal(second.requester!.name, 'Ada');
    const rows = await db.select().from(customers).where(eq(customers.organizationId, org.organizationId));
    assert.equal(rows.length, 1);
  });

  it('writes a ticket.created event whose payload matches the catalogue, and an audit row', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 'x', tags: ['vip', 'vip', ' billing '] });
    assert.deepEqual(ticket.tags, ['vip', 'billing']);
    const events = await db.select().from(ticketEvents).where(eq(ticketEvents.supportRequestId, ticket.id));
    assert.deepEqual(
      events.map((e) => e.type),
      ['ticket.created'],
    );
    const payload = ticketEventPayloads['ticket.created'].parse(events[0]!.payload);
    assert.equal(payload.ticket.number, ticket.number);
    assert.deepEqual(events[0]!.actorId, org.scope.actor.id);
    const audit = await db.select().from(auditLog).where(eq(auditLog.entityId, ticket.id));
    assert.deepEqual(
      audit.map((a) => [a.action, a.actorType, a.actorId]),
      [['ticket.created', 'user', org.scope.actor.id]],
    );
  });

  it('assigns to a member of the organisation', async () => {
    const org = await makeOrganization();
    const colleague = await org.addMember('agent');
    const ticket = await createTicket(db, org.scope, { subject: 'x', assigneeId: colleague });
    assert.equal(ticket.assigneeId, colleague);
  });

  it('refuses an assignee from another organisation with a 422 naming assigneeId, writing nothing', async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const outsider = await other.addMember('agent');
    const before = await writeCounts();
    await assert.rejects(
      createTicket(db, org.scope, { subject: 'x', assigneeId: outsider }),
      httpError(422, 'assigneeId'),
    );
    assert.deepEqual(await writeCounts(), before);
  });

  it('refuses bad input naming the field, writing nothing (not even a ticket number)', async () => {
    const org = await makeOrganization();
    await createTicket(db, org.scope, { subject: 'warm the counter' });
    const before = await writeCounts();
    for (const [input, field] of [
      [{ subject: '' }, 'subject'],
      [{ subject: 'x'.repeat(501) }, 'subject'],
      [{ subject: 'x', priority: 'asap' }, 'priority'],
      [{ subject: 'x', requesterEmail: 'not-an-email' }, 'requesterEmail'],
      [{ subject: 'x', requesterName: 'Ada' }, 'requesterName'],
      [{ subject: 'x', firstResponseDueAt: 'tomorrow' }, 'firstResponseDueAt'],
    ] as const)
      await assert.rejects(createTicket(db, org.scope, input as never), httpError(422, field));
    await assert.rejects(createTicket(db, org.scope, { subject: 'x', colour: 'red' } as never), /colour/);
    assert.deepEqual(await writeCounts(), before);
  });

  it('marks a ticket created as solved with solvedAt', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 'done already', status: 'solved' });
    const { rows } = await testDatabase().pool.query('select solved_at from support_requests where id = $1', [
      ticket.id,
    ]);
    assert.ok(rows[0].solved_at instanceof Date);
  });
});
