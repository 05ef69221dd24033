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

  it("carries the comment's text, author and visibility in comment.created, for members and relayed authors", async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const note = await addComment(db, org.scope, ticket.id, { body: 'Customer is a VIP', isPublic: false });
    await addComment(
      db,
      org.scope,
      ticket.id,
      { body: 'from Linear' },
      { source: 'linear', author: { displayName: 'Ada via Linear' }, externalId: 'lin-c-9' },
    );
    const events = await db
      .select()
      .from(ticketEvents)
      .where(and(eq(ticketEvents.supportRequestId, ticket.id), eq(ticketEvents.type, 'comment.created')))
      .orderBy(ticketEvents.id);
    const [internal, relayed] = events.map((e) => ticketEventPayloads['comment.created'].parse(e.payload).comment);
    assert.equal(internal!.body, 'Customer is a VIP');
    assert.equal(internal!.isPublic, false);
    assert.deepEqual(internal!.author, note.author);
    assert.equal(internal!.author.type, 'user');
    assert.equal(internal!.author.id, org.scope.userId);
    assert.ok(internal!.author.name.length > 0);
    assert.equal(relayed!.body, 'from Linear');
    assert.equal(relayed!.isPublic, true);
    assert.deepEqual(relayed!.author, { type: 'external', id: null, name: 'Ada via Linear' });
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
      (await listComments(db, org.scope, ticket.id)).data.map((c) => c.body),
      ['one', 'two', 'three'],
    );
  });

  it('pages through the comments both ways exactly once, including ones written in the same instant', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    const bodies = Array.from({ length: 7 }, (_, i) => `c${i + 1}`);
    for (const body of bodies) await addComment(db, org.scope, ticket.id, { body });
    // c2..c4 share a created_at to the microsecond: the id breaks the tie, so paging neither skips nor repeats.
    await pool.query(
      `update ticket_comments set created_at = (select created_at from ticket_comments where body = 'c2' and support_request_id = $1)
        where support_request_id = $1 and body in ('c3', 'c4')`,
      [ticket.id],
    );
    const readAll = async (order: 'asc' | 'desc') => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listComments(db, org.scope, ticket.id, { limit: 2, cursor, order });
        assert.ok(page.data.length <= 2);
        seen.push(...page.data.map((c) => c.body));
        cursor = page.nextCursor ?? undefined;
        pages++;
      } while (cursor);
      assert.equal(pages, 4);
      return seen;
    };
    const ascending = await readAll('asc');
    assert.deepEqual([...ascending].sort(), bodies);
    assert.deepEqual(await readAll('desc'), [...ascending].reverse());
    assert.equal((await listComments(db, org.scope, ticket.id)).data.length, 7, 'default page holds 50');
  });

  it('answers a cursor it did not issue, with a 400 and a limit over 100 with a 422, naming the field', async () => {
    const org = await makeOrganization();
    const ticket = await createTicket(db, org.scope, { subject: 's' });
    await assert.rejects(listComments(db, org.scope, ticket.id, { cursor: 'bm9wZQ' }), httpError(400, 'cursor'));
    await assert.rejects(listComments(db, org.scope, ticket.id, { limit: 101 }), httpError(422, 'limit'));
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
