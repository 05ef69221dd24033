import assert from 'node:assert/strict';
import { testDatabase } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { addComment } from './comments.ts';
import { createTicket } from './create-ticket.ts';
import { listTicketEvents } from './timeline.ts';
import { updateTicket } from './update-ticket.ts';

describe('listTicketEvents (the timeline)', () => {
  const { db } = testDatabase();

  it("tells the ticket's story oldest first, with the actor and dispatch state", async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await updateTicket(db, org.scope, ticket.id, { version: 1, status: 'pending' });
    await addComment(db, org.scope, ticket.id, { body: 'b' });
    const events = await listTicketEvents(db, org.scope, ticket.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['ticket.created', 'ticket.updated', 'ticket.status_changed', 'comment.created'],
    );
    assert.deepEqual(events[0]!.actor, { type: 'user', id: org.scope.actor.id });
    assert.equal(events[0]!.dispatchedAt, null);
    assert.ok(events.every((e, i) => i === 0 || e.id > events[i - 1]!.id));
  });

  it("treats another organisation's ticket as missing", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const ticket = await createTicket(db, other.scope, { subject: 'theirs' });
    await assert.rejects(listTicketEvents(db, org.scope, ticket.id), { status: 404 });
  });
});
