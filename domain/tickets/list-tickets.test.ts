import assert from 'node:assert/strict';
import { testDatabase } from '../../test/support/database.ts';
import { httpError, makeOrganization } from '../test-fixtures.ts';
import { createTicket } from './create-ticket.ts';
import { encodeCursor } from './cursor.ts';
import { getTicket } from './get-ticket.ts';
import { listTickets } from './list-tickets.ts';

describe('listTickets', () => {
  const { db, pool } = testDatabase();

  it('pages newest first through every ticket exactly once, including ones created in the same instant', async () => {
    const org = await makeOrganization();
    for (let i = 1; i <= 7; i++) await createTicket(db, org.scope, { subject: `t${i}` });
    // Tickets 2 and 3 share a created_at to the microsecond, 4 is one microsecond later (same millisecond):
    // paging must neither skip nor repeat them, which a millisecond-precision cursor would.
    await pool.query(
      `update support_requests
          set created_at = '2026-01-01T00:00:00.123456Z'::timestamptz + (number / 4) * interval '1 microsecond'
        where organization_id = $1 and number in (2, 3, 4)`,
      [org.organizationId],
    );
    const seen: number[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listTickets(db, org.scope, { limit: 2, cursor });
      seen.push(...page.data.map((t) => t.number));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(pages, 4);
    assert.deepEqual(seen.slice(0, 5), [7, 6, 5, 1, 4]);
    assert.deepEqual([...seen].sort(), [1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives no next cursor when the page holds the rest', async () => {
    const org = await makeOrganization();
    await createTicket(db, org.scope, { subject: 'only' });
    const page = await listTickets(db, org.scope, { limit: 1 });
    assert.equal(page.data.length, 1);
    assert.equal(page.nextCursor, null);
  });

  it('narrows by status, priority, assignee, requester and tag', async () => {
    const org = await makeOrganization();
    const colleague = await org.addMember();
    const a = await createTicket(db, org.scope, {
      subject: 'a',
      status: 'pending',
      priority: 'urgent',
      assigneeId: colleague,
      requesterEmail: 'a@example.com',
      tags: ['vip'],
    });
    await createTicket(db, org.scope, { subject: 'b', requesterEmail: 'b@example.com', tags: ['other'] });
    const only = async (query: Parameters<typeof listTickets>[2]) =>
      (await listTickets(db, org.scope, query)).data.map((t) => t.subject);
    assert.deepEqual(await only({ status: 'pending' }), ['a']);
    assert.deepEqual(await only({ priority: 'urgent' }), ['a']);
    assert.deepEqual(await only({ assigneeId: colleague }), ['a']);
    assert.deepEqual(await only({ requesterId: a.requester!.id }), ['a']);
    assert.deepEqual(await only({ tag: 'vip' }), ['a']);
    assert.deepEqual(await only({ tag: 'vi' }), []);
  });

  it('searches subject and description case-insensitively, taking % and _ literally', async () => {
    const org = await makeOrganization();
    await createTicket(db, org.scope, { subject: 'Refund for order', description: '' });
    await createTicket(db, org.scope, { subject: 'Login', description: 'cannot REFUND' });
    await createTicket(db, org.scope, { subject: '100% broken', description: 'snake_case' });
    await createTicket(db, org.scope, { subject: '1000 broken', description: 'snakeXcase' });
    const find = async (q: string) => (await listTickets(db, org.scope, { q })).data.map((t) => t.subject).sort();
    assert.deepEqual(await find('refund'), ['Login', 'Refund for order']);
    assert.deepEqual(await find('0%'), ['100% broken']);
    assert.deepEqual(await find('e_c'), ['100% broken']);
  });

  it("never shows another organisation's tickets", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const theirs = await createTicket(db, other.scope, { subject: 'theirs' });
    assert.deepEqual((await listTickets(db, org.scope, {})).data, []);
    await assert.rejects(getTicket(db, org.scope, theirs.id), { status: 404 });
  });

  it('answers a cursor it did not issue with a 400 naming cursor', async () => {
    const org = await makeOrganization();
    for (const cursor of [
      'garbage',
      Buffer.from('{"a":1}').toString('base64url'),
      Buffer.from('["yesterday","not-a-uuid"]').toString('base64url'),
    ]) {
      await assert.rejects(listTickets(db, org.scope, { cursor }), httpError(400, 'cursor'));
    }
  });

  it('accepts a well-formed cursor pointing anywhere', async () => {
    const org = await makeOrganization();
    await createTicket(db, org.scope, { subject: 'x' });
    const cursor = encodeCursor({ createdAt: '1999-01-01T00:00:00.000000Z', id: crypto.randomUUID() });
    assert.deepEqual((await listTickets(db, org.scope, { cursor })).data, []);
  });
});
