import assert from 'node:assert/strict';
import { appendTicketEvent, ticketEvents } from '@switchboard/database';
import { asc, eq, inArray, isNull } from 'drizzle-orm';
import { makeOrganization, type TestOrganization } from '../domain/test-fixtures.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { lockTicket } from '../domain/tickets/ticket-record.ts';
import { workflowIds } from '../temporal-config/index.ts';
import { testDatabase, truncateAll } from '../test/support/database.ts';
import {
  eventually,
  type RunningWorker,
  type TestTemporal,
  testTemporal,
  uniqueTaskQueue,
} from '../test/support/temporal.ts';
import { ticketStateQuery } from '../workflows/messages.ts';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions, RELAY_LOCK_KEY } from './relay.ts';

describe('outbox relay', function () {
  this.timeout(60_000);
  const { db, pool } = testDatabase();
  const taskQueue = uniqueTaskQueue('relay');
  let temporal: TestTemporal;
  let worker: RunningWorker;
  let org: TestOrganization;
  const relays: OutboxRelay[] = [];

  before(async () => {
    await truncateAll(); // earlier test files' events are not this relay's business
    temporal = await testTemporal();
    worker = await temporal.startWorker({ db, taskQueue });
    org = await makeOrganization();
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });
  after(async () => {
    await worker?.stop();
  });

  function startRelay(options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const relay = createOutboxRelay({
      db,
      pool,
      temporal: temporal.client,
      taskQueue,
      pollIntervalMs: 200,
      ...options,
    });
    relays.push(relay);
    relay.start();
    return relay;
  }

  /** Appends an event the way the domain does: in a transaction, after locking the ticket row. */
  async function append(ticketId: string, payload: unknown = { note: 'test' }): Promise<number> {
    return db.transaction(async (tx) => {
      await lockTicket(tx, org.organizationId, ticketId);
      const row = await appendTicketEvent(tx, {
        organizationId: org.organizationId,
        supportRequestId: ticketId,
        type: 'ticket.assigned',
        payload,
        actorType: 'system',
        actorId: null,
      });
      return row.id;
    });
  }

  async function eventIds(ticketId: string): Promise<number[]> {
    const rows = await db
      .select({ id: ticketEvents.id })
      .from(ticketEvents)
      .where(eq(ticketEvents.supportRequestId, ticketId))
      .orderBy(asc(ticketEvents.id));
    return rows.map((r) => r.id);
  }

  const applied = async (ticketId: string) => {
    const state = await temporal.client.workflow.getHandle(workflowIds.ticket(ticketId)).query(ticketStateQuery);
    return { ids: state.recent.map((r) => r.id), duplicatesDropped: state.duplicatesDropped };
  };

  async function undispatched(ids: number[]): Promise<number[]> {
    const rows = await db.select({ id: ticketEvents.id }).from(ticketEvents).where(inArray(ticketEvents.id, ids));
    const pending = await db
      .select({ id: ticketEvents.id })
      .from(ticketEvents)
      .where(isNull(ticketEvents.dispatchedAt));
    const waiting = new Set(pending.map((r) => r.id));
    return rows.map((r) => r.id).filter((id) => waiting.has(id));
  }

  it("delivers every ticket's events to its workflow in id order and marks them dispatched", async () => {
    const tickets = await Promise.all([1, 2, 3].map((i) => createTicket(db, org.scope, { subject: `relay ${i}` })));
    for (let round = 0; round < 3; round++) for (const t of tickets) await append(t.id);
    const relay = startRelay();
    for (const t of tickets) {
      const ids = await eventIds(t.id);
      assert.equal(ids.length, 4);
      await eventually(async () => assert.deepEqual((await applied(t.id)).ids, ids));
      await eventually(async () => assert.deepEqual(await undispatched(ids), []));
    }
    assert.ok(relay.metrics().dispatched >= 12);
    assert.equal(relay.metrics().isLeader, true);
  });

  it('wakes on NOTIFY instead of waiting for its poll', async () => {
    const ticket = await createTicket(db, org.scope, { subject: 'notify' });
    startRelay({ pollIntervalMs: 60_000 });
    await eventually(async () => assert.deepEqual(await undispatched(await eventIds(ticket.id)), []));
    const id = await append(ticket.id);
    await eventually(async () => assert.deepEqual(await undispatched([id]), []), { timeoutMs: 3_000 });
  });

  it("holds back a ticket's later events while one fails, and lets other tickets through", async () => {
    const stuck = await createTicket(db, org.scope, { subject: 'stuck' });
    const other = await createTicket(db, org.scope, { subject: 'other' });
    // Temporal refuses a payload over its 2 MB blob limit: a real dispatch failure for this one ticket.
    const tooLarge = await append(stuck.id, { blob: 'x'.repeat(2_500_000) });
    const after = await append(stuck.id);
    const otherId = await append(other.id);
    const relay = startRelay({ retryInitialMs: 300, retryMaxMs: 600 });

    await eventually(async () => assert.deepEqual((await applied(other.id)).ids, await eventIds(other.id)));
    await eventually(async () => assert.ok(relay.metrics().failed >= 2, 'the failing ticket is retried'));
    assert.deepEqual(await undispatched([tooLarge, after, otherId]), [tooLarge, after]);
    assert.deepEqual((await applied(stuck.id)).ids, [(await eventIds(stuck.id))[0]], 'only ticket.created got through');

    // Once the event can be delivered, the ticket catches up in order.
    await db
      .update(ticketEvents)
      .set({ payload: { blob: 'small now' } })
      .where(eq(ticketEvents.id, tooLarge));
    await eventually(async () => assert.deepEqual((await applied(stuck.id)).ids, await eventIds(stuck.id)));
    // The relay marks them dispatched once Temporal has accepted the signal, which the workflow may apply first.
    await eventually(async () => assert.deepEqual(await undispatched([tooLarge, after]), []));
  });

  it('lets one relay work at a time; a standby takes over when it stops, and nothing is applied twice', async () => {
    const ticket = await createTicket(db, org.scope, { subject: 'two relays' });
    const first = startRelay();
    await eventually(async () => assert.equal(first.metrics().isLeader, true));
    const second = startRelay();
    for (let i = 0; i < 5; i++) await append(ticket.id);
    await eventually(async () => assert.deepEqual((await applied(ticket.id)).ids, await eventIds(ticket.id)));
    assert.equal(second.metrics().isLeader, false);
    assert.equal(second.metrics().dispatched, 0);

    await first.stop();
    for (let i = 0; i < 5; i++) await append(ticket.id);
    await eventually(async () => assert.equal(second.metrics().isLeader, true));
    await eventually(async () => assert.deepEqual((await applied(ticket.id)).ids, await eventIds(ticket.id)));
    assert.equal((await applied(ticket.id)).duplicatesDropped, 0);
  });

  it('recovers when its database session is cut: takes the lock again and carries on', async () => {
    const ticket = await createTicket(db, org.scope, { subject: 'cut session' });
    const relay = startRelay();
    await eventually(async () => assert.deepEqual(await undispatched(await eventIds(ticket.id)), []));
    const key = RELAY_LOCK_KEY;
    const cut = await pool.query(
      `select pg_terminate_backend(pid) as cut from pg_locks
        where locktype = 'advisory' and granted and classid = $1 and objid = $2
          and database = (select oid from pg_database where datname = current_database())`,
      [Number(key >> 32n), Number(key & 0xffffffffn)],
    );
    assert.equal(cut.rowCount, 1, 'the relay held the lock on its own session');
    // It may lose and retake the lock between two looks at isLeader, so count the loss instead.
    await eventually(async () => assert.equal(relay.metrics().sessionsLost, 1));
    const id = await append(ticket.id);
    await eventually(async () => assert.deepEqual(await undispatched([id]), []));
    assert.equal(relay.metrics().isLeader, true);
  });
});
