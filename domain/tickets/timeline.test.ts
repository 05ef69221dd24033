import assert from 'node:assert/strict';
import { integrationConfigs } from '@switchboard/database';
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
    const updates = (await listTicketEvents(db, org.scope, ticket.id)).filter((e) => e.type === 'ticket.updated');
    assert.deepEqual(updates[0]!.actor, { type: 'integration', id: linear!.id, name: 'Linear (Acme)' });
    assert.deepEqual(updates[1]!.actor, { type: 'integration', id: theirs!.id }, 'no name from another organisation');
  });

  it("treats another organisation's ticket as missing", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const ticket = await createTicket(db, other.scope, { subject: 'theirs' });
    await assert.rejects(listTicketEvents(db, org.scope, ticket.id), { status: 404 });
  });
});
