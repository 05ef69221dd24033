import assert from 'node:assert/strict';
import { integrationConfigs } from '@switchboard/database';
import { testDatabase } from '../../test/support/database.ts';
import { httpError, makeOrganization } from '../test-fixtures.ts';
import { addComment } from './comments.ts';
import { createTicket } from './create-ticket.ts';
import { encodeCursor } from './cursor.ts';
import { listTicketEvents } from './timeline.ts';
import { updateTicket } from './update-ticket.ts';

describe('listTicketEvents (the timeline)', () => {
  const { db } = testDatabase();

  it("tells the ticket's story oldest first, with the actor and dispatch state", async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await updateTicket(db, org.scope, ticket.id, { version: 1, status: 'pending' });
    await addComment(db, org.scope, ticket.id, { body: 'b' });
    const events = (await listTicketEvents(db, org.scope, ticket.id)).data;
    assert.deepEqual(
      events.map((e) => e.type),
      ['ticket.created', 'ticket.updated', 'ticket.status_changed', 'comment.created'],
    );
    assert.deepEqual(events[0]!.actor, { type: 'user', id: org.scope.actor.id });
    assert.equal(events[0]!.dispatchedAt, null);
    assert.ok(events.every((e, i) => i === 0 || e.id > events[i - 1]!.id));
  });

  it('names the integration that made a change (its installation, in the same organisation only)', async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const [linear] = await db
      .insert(integrationConfigs)
      .values({ organizationId: org.organizationId, integrationType: 'linear', name: 'Linear (Acme)' })
      .returning();
    const [theirs] = await db
      .insert(integrationConfigs)
      .values({ organizationId: other.organizationId, integrationType: 'linear', name: 'Their Linear' })
      .returning();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const as = (id: string) => ({ ...org.scope, actor: { type: 'integration' as const, id }, userId: null });
    await updateTicket(db, as(linear!.id), ticket.id, { version: 1, status: 'pending' });
    await updateTicket(db, as(theirs!.id), ticket.id, { version: 2, status: 'open' });
    const updates = (await listTicketEvents(db, org.scope, ticket.id)).data.filter((e) => e.type === 'ticket.updated');
    assert.deepEqual(updates[0]!.actor, { type: 'integration', id: linear!.id, name: 'Linear (Acme)' });
    assert.deepEqual(updates[1]!.actor, { type: 'integration', id: theirs!.id }, 'no name from another organisation');
  });

  it('pages through the events both ways, each exactly once, in the order they happened', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    for (let i = 0; i < 6; i++) await addComment(db, org.scope, ticket.id, { body: `c${i}` });
    const readAll = async (order: 'asc' | 'desc', limit: number) => {
      const ids: number[] = [];
      let cursor: string | undefined;
      do {
        const page = await listTicketEvents(db, org.scope, ticket.id, { limit, cursor, order });
        assert.ok(page.data.length <= limit);
        ids.push(...page.data.map((e) => e.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return ids;
    };
    const all = (await listTicketEvents(db, org.scope, ticket.id)).data.map((e) => e.id);
    assert.equal(all.length, 7);
    assert.deepEqual(await readAll('asc', 3), all);
    assert.deepEqual(await readAll('desc', 2), [...all].reverse());
    const first = await listTicketEvents(db, org.scope, ticket.id, { limit: 7 });
    assert.equal(first.nextCursor, null, 'no next cursor when the page holds the rest');
  });

  it('answers a cursor it did not issue with a 400 naming cursor', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    for (const cursor of ['nope', encodeCursor({ createdAt: '2026-01-01T00:00:00.000000Z', id: ticket.id })])
      await assert.rejects(listTicketEvents(db, org.scope, ticket.id, { cursor }), httpError(400, 'cursor'));
  });

  it("treats another organisation's ticket as missing", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const ticket = await createTicket(db, other.scope, { subject: 'theirs' });
    await assert.rejects(listTicketEvents(db, org.scope, ticket.id), { status: 404 });
  });
});
