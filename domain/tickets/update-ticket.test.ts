import assert from 'node:assert/strict';
import { auditLog, ticketEvents } from '@switchboard/database';
import { asc, eq } from 'drizzle-orm';
import { ticketEventPayloads } from '../../common/ticket-events.ts';
import { testDatabase } from '../../test/support/database.ts';
import { httpError, makeOrganization, writeCounts } from '../test-fixtures.ts';
import { createTicket } from './create-ticket.ts';
import { updateTicket } from './update-ticket.ts';

describe('updateTicket', () => {
  const { db, pool } = testDatabase();
  const eventsOf = (ticketId: string) =>
    db.select().from(ticketEvents).where(eq(ticketEvents.supportRequestId, ticketId)).orderBy(asc(ticketEvents.id));

  it('changes the fields named, bumps the version and records ticket.updated with from/to', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 'old', tags: ['a'] });
    const updated = await updateTicket(db, org.scope, ticket.id, {
      version: 1,
      subject: 'new',
      priority: 'urgent',
      tags: ['a', 'b'],
      resolutionDueAt: '2030-01-01T12:00:00+02:00',
    });
    assert.equal(updated.version, 2);
    assert.equal(updated.subject, 'new');
    assert.equal(updated.resolutionDueAt, '2030-01-01T10:00:00.000Z');
    assert.ok(updated.updatedAt > ticket.updatedAt);
    const events = await eventsOf(ticket.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ticket.created', 'ticket.updated'],
    );
    const payload = ticketEventPayloads['ticket.updated'].parse(events[1]!.payload);
    assert.deepEqual(payload.changes, {
      subject: { from: 'old', to: 'new' },
      priority: { from: 'normal', to: 'urgent' },
      tags: { from: ['a'], to: ['a', 'b'] },
      resolutionDueAt: { from: null, to: '2030-01-01T10:00:00.000Z' },
    });
    assert.equal(payload.ticket.version, 2);
  });

  it('adds ticket.status_changed and ticket.assigned when those fields change', async () => {
    const org = await makeOrganization();
    const colleague = await org.addMember('agent');
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await updateTicket(db, org.scope, ticket.id, { version: 1, status: 'pending', assigneeId: colleague });
    const events = await eventsOf(ticket.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ticket.created', 'ticket.updated', 'ticket.status_changed', 'ticket.assigned'],
    );
    assert.deepEqual(ticketEventPayloads['ticket.status_changed'].parse(events[2]!.payload).from, 'open');
    const assigned = ticketEventPayloads['ticket.assigned'].parse(events[3]!.payload);
    assert.deepEqual([assigned.from, assigned.to], [null, colleague]);
  });

  it('unassigns with assigneeId null', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's', assigneeId: org.scope.userId! });
    const updated = await updateTicket(db, org.scope, ticket.id, { version: 1, assigneeId: null });
    assert.equal(updated.assigneeId, null);
  });

  it('writes nothing and keeps the version when nothing changes', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's', priority: 'high', tags: ['x'] });
    const before = await writeCounts();
    const same = await updateTicket(db, org.scope, ticket.id, {
      version: 1,
      subject: 's',
      priority: 'high',
      tags: ['x'],
    });
    assert.equal(same.version, 1);
    assert.deepEqual(await writeCounts(), before);
  });

  it('answers a stale version with a 409 naming the current version, writing nothing', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await updateTicket(db, org.scope, ticket.id, { version: 1, priority: 'low' });
    const before = await writeCounts();
    await assert.rejects(
      updateTicket(db, org.scope, ticket.id, { version: 1, priority: 'high' }),
      httpError(409, 'version'),
    );
    await assert.rejects(updateTicket(db, org.scope, ticket.id, { version: 1, priority: 'high' }), /now at version 2/);
    assert.deepEqual(await writeCounts(), before);
  });

  it('lets exactly one of two concurrent updates of the same version through', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const results = await Promise.allSettled([
      updateTicket(db, org.scope, ticket.id, { version: 1, priority: 'low' }),
      updateTicket(db, org.scope, ticket.id, { version: 1, priority: 'urgent' }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.equal(rejected.reason.status, 409);
    assert.equal((await eventsOf(ticket.id)).length, 2);
  });

  it("treats another organisation's ticket as missing (404), writing nothing", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const ticket = await createTicket(db, other.scope, { subject: 'theirs' });
    const before = await writeCounts();
    await assert.rejects(updateTicket(db, org.scope, ticket.id, { version: 1, subject: 'mine now' }), {
      status: 404,
    });
    assert.deepEqual(await writeCounts(), before);
  });

  it('refuses an assignee outside the organisation with a 422 naming assigneeId', async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const outsider = await other.addMember();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const before = await writeCounts();
    await assert.rejects(
      updateTicket(db, org.scope, ticket.id, { version: 1, assigneeId: outsider }),
      httpError(422, 'assigneeId'),
    );
    assert.deepEqual(await writeCounts(), before);
  });

  it('sets solvedAt when solved, keeps it when closed, clears it when reopened', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const solvedAt = async () =>
      (await pool.query('select solved_at from support_requests where id = $1', [ticket.id])).rows[0].solved_at;
    await updateTicket(db, org.scope, ticket.id, { version: 1, status: 'solved' });
    const solved = await solvedAt();
    assert.ok(solved instanceof Date);
    await updateTicket(db, org.scope, ticket.id, { version: 2, status: 'closed' });
    assert.deepEqual(await solvedAt(), solved);
    await updateTicket(db, org.scope, ticket.id, { version: 3, status: 'open' });
    assert.equal(await solvedAt(), null);
  });

  it('records the change in the audit log', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await updateTicket(db, org.scope, ticket.id, { version: 1, status: 'pending' });
    const audit = await db.select().from(auditLog).where(eq(auditLog.entityId, ticket.id)).orderBy(asc(auditLog.id));
    assert.deepEqual(
      audit.map((a) => a.action),
      ['ticket.created', 'ticket.updated'],
    );
    assert.deepEqual((audit[1]!.metadata as { changes: Record<string, unknown> }).changes.status, {
      from: 'open',
      to: 'pending',
    });
  });
});
