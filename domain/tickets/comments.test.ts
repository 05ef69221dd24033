import assert from 'node:assert/strict';
import { ticketEvents } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { ticketEventPayloads } from '../../common/ticket-events.ts';
import { testDatabase } from '../../test/support/database.ts';
import { httpError, makeOrganization, writeCounts } from '../test-fixtures.ts';
import { addComment, listComments } from './comments.ts';
import { createTicket } from './create-ticket.ts';

describe('ticket comments', () => {
  const { db, pool } = testDatabase();
  const firstRespondedAt = async (ticketId: string) =>
    (await pool.query('select first_responded_at from support_requests where id = $1', [ticketId])).rows[0]
      .first_responded_at;

  it('adds a public comment by the acting user, with a comment.created event', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const comment = await addComment(db, org.scope, ticket.id, { body: 'On it.' });
    assert.equal(comment.isPublic, true);
    assert.equal(comment.source, 'web');
    assert.equal(comment.author.type, 'user');
    assert.equal(comment.author.id, org.scope.userId);
    const [event] = await db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.supportRequestId, ticket.id), eq(ticketEvents.type, 'comment.created')));
    const payload = ticketEventPayloads['comment.created'].parse(event!.payload);
    assert.equal(payload.comment.id, comment.id);
  });

  it('counts a public comment by a user as the first response, once', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await addComment(db, org.scope, ticket.id, { body: 'internal note', isPublic: false });
    assert.equal(await firstRespondedAt(ticket.id), null);
    await addComment(db, org.scope, ticket.id, { body: 'hello' });
    const first = await firstRespondedAt(ticket.id);
    assert.ok(first instanceof Date);
    await addComment(db, org.scope, ticket.id, { body: 'again' });
    assert.deepEqual(await firstRespondedAt(ticket.id), first);
  });

  it('does not count a comment relayed from someone outside as a response', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const comment = await addComment(
      db,
      org.scope,
      ticket.id,
      { body: 'from Linear' },
      { source: 'linear', author: { displayName: 'Ada via Linear' }, externalId: 'lin-c-1' },
    );
    assert.deepEqual(comment.author, { type: 'external', id: null, name: 'Ada via Linear' });
    assert.equal(await firstRespondedAt(ticket.id), null);
  });

  it('adds a relayed comment once however often it is delivered', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const relay = () =>
      addComment(
        db,
        org.scope,
        ticket.id,
        { body: 'hi' },
        { source: 'slack', author: { displayName: 'Bo' }, externalId: 'ts-1' },
      );
    const first = await relay();
    const before = await writeCounts();
    const second = await relay();
    assert.equal(second.id, first.id);
    assert.deepEqual(await writeCounts(), before);
  });

  it('lists comments oldest first', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    for (const body of ['one', 'two', 'three']) await addComment(db, org.scope, ticket.id, { body });
    assert.deepEqual(
      (await listComments(db, org.scope, ticket.id)).map((c) => c.body),
      ['one', 'two', 'three'],
    );
  });

  it("treats another organisation's ticket as missing, for adding and listing", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const ticket = await createTicket(db, other.scope, { subject: 'theirs' });
    const before = await writeCounts();
    await assert.rejects(addComment(db, org.scope, ticket.id, { body: 'hi' }), { status: 404 });
    await assert.rejects(listComments(db, org.scope, ticket.id), { status: 404 });
    assert.deepEqual(await writeCounts(), before);
  });

  it('refuses an empty body naming it, writing nothing', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const before = await writeCounts();
    await assert.rejects(addComment(db, org.scope, ticket.id, { body: '' }), httpError(422, 'body'));
    assert.deepEqual(await writeCounts(), before);
  });
});
