import assert from 'node:assert/strict';
import {
  appendTicketEvent,
  integrationConfigs,
  ticketEvents,
  webhookDeliveries,
  webhookEndpointListeners,
  webhookMessages,
} from '@switchboard/database';
import { asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { fanOutDeliveries } from '../activities/webhooks/enqueue.ts';
import { webhooksRelaySubscriber } from '../activities/webhooks/relay-subscriber.ts';
import { makeEndpoint } from '../activities/webhooks/test-support.ts';
import { groupBy } from '../common/group-by.ts';
import type { RelaySubscriber } from '../common/integration-contract.ts';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';
import { makeOrganization, type TestOrganization } from '../domain/test-fixtures.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { lockTicket } from '../domain/tickets/ticket-record.ts';
import { behaviours, startReceiver } from '../test/receivers/webhook-receiver.ts';
import { testDatabase, truncateAll } from '../test/support/database.ts';
import { eventually, type TestTemporal, testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';
import {
  createOutboxRelay,
  DEFAULT_PARTITIONS,
  type OutboxRelay,
  type OutboxRelayOptions,
  RELAY_MEMBER_LOCK,
} from './relay.ts';

/** A subscriber that records what reaches it, per ticket, and refuses the tickets a test names. */
function recorder(kind: RelaySubscriber['kind'] = 'workflow') {
  const received = new Map<string, number[]>();
  const refusing = new Set<string>();
  let sends = 0;
  const subscriber: RelaySubscriber = {
    name: `recorder-${kind}`,
    kind,
    async plan(events) {
      return [...groupBy(events, (e) => e.ticketId)].map(([ticketId, ofTicket]) => ({
        target: `recorder/${ticketId}`,
        ticketIds: [ticketId],
        async send() {
          sends += 1;
          if (refusing.has(ticketId)) throw new Error('refused by the test');
          received.set(ticketId, [...(received.get(ticketId) ?? []), ...ofTicket.map((e) => e.id)]);
        },
      }));
    },
  };
  return { subscriber, received, refusing, sends: () => sends };
}

describe('outbox relay', function () {
  this.timeout(60_000);
  const { db, pool } = testDatabase();
  let temporal: TestTemporal;
  let org: TestOrganization;
  const relays: OutboxRelay[] = [];

  before(async () => {
    await truncateAll(); // earlier test files' events are not this relay's business
    temporal = await testTemporal();
    org = await makeOrganization();
  });
  beforeEach(async () => {
    // Each test starts from an empty outbox: a relay dispatches whatever is waiting.
    await db.update(ticketEvents).set({ dispatchedAt: new Date() }).where(isNull(ticketEvents.dispatchedAt));
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
  });

  function startRelay(subscribers: RelaySubscriber[], options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const relay = createOutboxRelay({
      pool,
      temporal: temporal.client,
      subscribers,
      pollIntervalMs: 200,
      ...options,
    });
    relays.push(relay);
    relay.start();
    return relay;
  }

  /** Appends an event the way the domain does: in a transaction, after locking the ticket row. */
  async function append(
    ticketId: string,
    type: TicketEventType = 'ticket.assigned',
    organization: TestOrganization = org,
  ): Promise<number> {
    return db.transaction(async (tx) => {
      await lockTicket(tx, organization.organizationId, ticketId);
      const row = await appendTicketEvent(tx, {
        organizationId: organization.organizationId,
        supportRequestId: ticketId,
        type,
        payload: { note: 'test' },
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

  async function undispatched(ids: number[]): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await db
      .select({ id: ticketEvents.id })
      .from(ticketEvents)
      .where(inArray(ticketEvents.id, ids))
      .orderBy(asc(ticketEvents.id));
    const pending = new Set(
      (await db.select({ id: ticketEvents.id }).from(ticketEvents).where(isNull(ticketEvents.dispatchedAt))).map(
        (r) => r.id,
      ),
    );
    return rows.map((r) => r.id).filter((id) => pending.has(id));
  }

  it("hands each ticket's events to its subscribers once, in id order, and marks them dispatched", async () => {
    const probe = recorder();
    const tickets = await Promise.all([1, 2, 3].map((i) => createTicket(db, org.scope, { subject: `relay ${i}` })));
    for (let round = 0; round < 3; round++) for (const t of tickets) await append(t.id);
    const relay = startRelay([probe.subscriber]);
    for (const t of tickets) {
      const ids = await eventIds(t.id);
      assert.equal(ids.length, 4);
      await eventually(async () => assert.deepEqual(probe.received.get(t.id), ids));
      await eventually(async () => assert.deepEqual(await undispatched(ids), []));
    }
    // Everything was waiting before the relay started: one batch, one send per ticket, not one per event.
    assert.equal(probe.sends(), 3);
    assert.ok(relay.metrics().dispatched >= 12);
    assert.equal(relay.metrics().isLeader, true);
    assert.equal(relay.metrics().partitions, DEFAULT_PARTITIONS);
  });

  it('wakes on NOTIFY instead of waiting for its poll', async () => {
    const probe = recorder();
    const ticket = await createTicket(db, org.scope, { subject: 'notify' });
    startRelay([probe.subscriber], { pollIntervalMs: 60_000 });
    await eventually(async () => assert.deepEqual(await undispatched(await eventIds(ticket.id)), []));
    const id = await append(ticket.id);
    await eventually(async () => assert.deepEqual(await undispatched([id]), []), { timeoutMs: 3_000 });
  });

  it("holds back a ticket's later events while a send about it fails, and lets other tickets through", async () => {
    const probe = recorder();
    const stuck = await createTicket(db, org.scope, { subject: 'stuck' });
    const other = await createTicket(db, org.scope, { subject: 'other' });
    probe.refusing.add(stuck.id);
    const first = await append(stuck.id);
    const otherId = await append(other.id);
    const relay = startRelay([probe.subscriber], { retryInitialMs: 100, retryMaxMs: 300 });

    await eventually(async () => assert.deepEqual(probe.received.get(other.id), await eventIds(other.id)));
    await eventually(async () => assert.ok(relay.metrics().failed >= 4, 'the failing ticket is retried'));
    const later = await append(stuck.id);
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(await undispatched([first, later, otherId]), [first, later]);
    assert.equal(probe.received.get(stuck.id), undefined, 'nothing of the stuck ticket got through');

    // Once it can be delivered, the ticket catches up in order, each event once.
    probe.refusing.delete(stuck.id);
    await eventually(async () => assert.deepEqual(probe.received.get(stuck.id), await eventIds(stuck.id)));
    await eventually(async () => assert.deepEqual(await undispatched([first, later]), []));
  });

  it('marks an event nobody wants without a single send', async () => {
    const nobody: RelaySubscriber = { name: 'nobody', kind: 'workflow', plan: async () => [] };
    const ticket = await createTicket(db, org.scope, { subject: 'unwanted' });
    for (let i = 0; i < 5; i++) await append(ticket.id);
    const relay = startRelay([nobody]);
    await eventually(async () => assert.deepEqual(await undispatched(await eventIds(ticket.id)), []));
    assert.equal(relay.metrics().sends, 0);
    assert.equal(relay.metrics().byKind.none, 6);
  });

  it('fans a batch out to webhook endpoints with SQL and announces them to the dispatcher in one signal, whatever the event and endpoint count', async () => {
    const a = await makeEndpoint(org.organizationId, {
      url: 'https://a.example.test/hook',
      eventTypes: ['ticket.assigned'],
    });
    const b = await makeEndpoint(org.organizationId, {
      url: 'https://b.example.test/hook',
      eventTypes: ['ticket.assigned'],
    });
    const tickets = await Promise.all([1, 2, 3, 4].map((i) => createTicket(db, org.scope, { subject: `fan ${i}` })));
    const ids: number[] = [];
    for (let round = 0; round < 10; round++) for (const t of tickets) ids.push(await append(t.id));
    // The signal goes to the real Temporal server: a dispatcher on a queue no worker serves just waits.
    const relay = startRelay([webhooksRelaySubscriber({ payloadLimitBytes: 256 * 1024 })], {
      taskQueue: 'relay-test-no-worker',
    });
    await eventually(async () => assert.deepEqual(await undispatched(ids), []));
    assert.equal(relay.metrics().sends, 1, 'one announcement for both endpoints and the whole batch');
    for (const endpoint of [a, b]) {
      const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
      assert.equal(rows.length, 40, 'one delivery per event and endpoint (ticket.created is not subscribed)');
    }
  });

  it('wakes a cold endpoint once for a burst: later batches wait for the batch that wake starts, not for more wakes', async () => {
    // An organisation of its own, and a queue no worker serves: the woken workflow never runs a batch by itself.
    const own = await makeOrganization();
    const endpoint = await makeEndpoint(own.organizationId, {
      url: 'https://cold.example.test/hook',
      eventTypes: ['ticket.assigned'],
    });
    const ticket = await createTicket(db, own.scope, { subject: 'cold burst' });
    const relay = startRelay([webhooksRelaySubscriber({ payloadLimitBytes: 256 * 1024 })], {
      taskQueue: 'relay-test-no-worker',
    });
    const dispatched = async () => {
      const id = await append(ticket.id, 'ticket.assigned', own);
      await eventually(async () => assert.deepEqual(await undispatched([id]), []));
    };
    const listener = async () =>
      (await db.select().from(webhookEndpointListeners).where(eq(webhookEndpointListeners.endpointId, endpoint.id)))[0];

    await dispatched();
    assert.equal(relay.metrics().sends, 1, 'the first batch wakes the endpoint');
    assert.ok((await listener())?.wakeSentAt, 'and records the wake once Temporal accepted it');
    for (let i = 0; i < 3; i++) await dispatched();
    assert.equal(relay.metrics().sends, 1, 'three more relay batches: no wake, the coming batch claims theirs too');

    // A batch takes the endpoint over (as loadBatchSetup does): that wake is answered, the next batch wakes again.
    await db
      .update(webhookEndpointListeners)
      .set({ owner: 'batch-1', takenAt: sql`clock_timestamp()` })
      .where(eq(webhookEndpointListeners.endpointId, endpoint.id));
    await dispatched();
    assert.equal(relay.metrics().sends, 2, 'a fan-out after the batch started wakes the endpoint again');
    await dispatched();
    assert.equal(relay.metrics().sends, 2);

    // A worker of the previous release takes the row over without writing taken_at: its new owner answers the wake.
    await dispatched();
    assert.equal(relay.metrics().sends, 2);
    await db
      .update(webhookEndpointListeners)
      .set({ owner: 'batch-2-previous-release' })
      .where(eq(webhookEndpointListeners.endpointId, endpoint.id));
    await dispatched();
    assert.equal(relay.metrics().sends, 3, 'an owner changed since the wake means a batch started: wake again');

    // A wake nobody answered for longer than it is trusted (a workflow terminated after the signal) is sent again.
    await db
      .update(webhookEndpointListeners)
      .set({ wakeSentAt: sql`clock_timestamp() - interval '31 seconds'` })
      .where(eq(webhookEndpointListeners.endpointId, endpoint.id));
    await dispatched();
    assert.equal(relay.metrics().sends, 4, 'a stale marker does not silence the endpoint');
    const deliveries = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
    assert.equal(deliveries.length, 9, 'every event has its delivery, woken or not');
  });

  it('costs one wake for a stream of events to an endpoint whose batch stays to listen for them', async () => {
    const receiver = await startReceiver();
    const queue = uniqueTaskQueue('relay-listening');
    // Listening as deployed, whatever SWITCHBOARD_WEBHOOK_LISTEN_MS this run has.
    const worker = await temporal.startWebhooksWorker({
      db,
      ticketsTaskQueue: queue,
      listen: { quietMs: 5_000, pollMs: 1_000 },
    });
    try {
      receiver.route('/stream', behaviours.ok());
      // An organisation of its own: earlier tests' endpoints would hear these events too.
      const own = await makeOrganization();
      const endpoint = await makeEndpoint(own.organizationId, {
        url: receiver.url('/stream'),
        eventTypes: ['ticket.assigned'],
      });
      const ticket = await createTicket(db, own.scope, { subject: 'stream' });
      const relay = startRelay([webhooksRelaySubscriber({ payloadLimitBytes: 256 * 1024 })], { taskQueue: queue });
      await append(ticket.id, 'ticket.assigned', own);
      await receiver.waitForCount(1, 20_000);
      await eventually(async () => {
        const [row] = await db
          .select()
          .from(webhookEndpointListeners)
          .where(eq(webhookEndpointListeners.endpointId, endpoint.id));
        assert.ok(row?.listeningUntil, 'the batch says it listens');
      });
      // One event every 200 ms, well inside the batch's 5 s of listening.
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 200));
        await append(ticket.id, 'ticket.assigned', own);
      }
      await receiver.waitForCount(11, 20_000);
      assert.equal(relay.metrics().sends, 1, 'the first event woke the endpoint; the rest reached its listening batch');
    } finally {
      await worker.stop();
      await receiver.close();
    }
  });

  it('fans out for organisations whose ids are not uuids (better-auth makes them)', async () => {
    const { organization } = await import('@switchboard/database');
    const organizationId = 'ywDRZdsoI3p5SB5ojEHdAH1BRy2AXBrg'.slice(0, 24) + Date.now().toString(36);
    await db.insert(organization).values({ id: organizationId, name: 'Text id', slug: `text-${organizationId}` });
    const endpoint = await makeEndpoint(organizationId, {
      url: 'https://t.example.test/hook',
      eventTypes: ['ticket.created'],
    });
    const ticket = await createTicket(
      db,
      { organizationId, actor: { type: 'system', id: null }, userId: null },
      { subject: 'text organisation id' },
    );
    startRelay([webhooksRelaySubscriber({ payloadLimitBytes: 256 * 1024 })], { taskQueue: 'relay-test-no-worker' });
    await eventually(async () => assert.deepEqual(await undispatched(await eventIds(ticket.id)), []));
    const rows = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id));
    assert.equal(rows.length, 1);
  });

  it('fans out by what each endpoint was when the event happened, not when the relay got to it', async () => {
    const hook = (name: string) => ({
      url: `https://${name}.example.test/hook`,
      eventTypes: ['ticket.assigned' as const],
    });
    const a = await makeEndpoint(org.organizationId, hook('toggled'));
    const b = await makeEndpoint(org.organizationId, hook('resubscribed'));
    const ticket = await createTicket(db, org.scope, { subject: 'during an outage' });
    const setEndpoint = (id: string, set: Partial<typeof integrationConfigs.$inferInsert>) =>
      db.update(integrationConfigs).set(set).where(eq(integrationConfigs.id, id));
    const [bConfig] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, b.id));

    // No relay runs: all of this happens during a worker outage, and the relay sees it all at once afterwards.
    const e1 = await append(ticket.id);
    await setEndpoint(b.id, { config: { ...(bConfig!.config as object), eventTypes: ['comment.created'] } });
    const e2 = await append(ticket.id);
    await setEndpoint(a.id, { isActive: false });
    const e3 = await append(ticket.id);
    const c = await makeEndpoint(org.organizationId, hook('created-later'));
    await setEndpoint(a.id, { isActive: true });
    const e4 = await append(ticket.id);
    await setEndpoint(a.id, { isActive: false, disabledReason: 'failing for days' });

    startRelay([webhooksRelaySubscriber({ payloadLimitBytes: 256 * 1024 })], { taskQueue: 'relay-test-no-worker' });
    await eventually(async () => assert.deepEqual(await undispatched([e1, e2, e3, e4]), []));
    const received = async (endpointId: string) => {
      const rows = await db
        .select({ eventId: webhookMessages.eventId })
        .from(webhookDeliveries)
        .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
        .where(eq(webhookDeliveries.endpointId, endpointId));
      return rows.map((r) => r.eventId).sort((x, y) => x! - y!);
    };
    assert.deepEqual(await received(a.id), [e1, e2, e4], 'not e3, from while it was disabled; e4 waits for it');
    assert.deepEqual(await received(b.id), [e1], 'subscribed to ticket.assigned only until before e2');
    assert.deepEqual(await received(c.id), [e4], 'created after e3');
  });

  it('fans out to an organisation’s only endpoint when it was on at the event, though it is off when the relay reads', async () => {
    const alone = await makeOrganization();
    const endpoint = await makeEndpoint(alone.organizationId, {
      url: 'https://switched-off-since.example.test/hook',
      eventTypes: ['ticket.assigned' as const],
    });
    const ticket = await createTicket(db, alone.scope, { subject: 'written before the endpoint was switched off' });
    const event = await append(ticket.id, 'ticket.assigned', alone);
    await db.update(integrationConfigs).set({ isActive: false }).where(eq(integrationConfigs.id, endpoint.id));

    startRelay([webhooksRelaySubscriber({ payloadLimitBytes: 256 * 1024 })], { taskQueue: 'relay-test-no-worker' });
    await eventually(async () => assert.deepEqual(await undispatched([event]), []));
    const deliveries = await db
      .select({ eventId: webhookMessages.eventId })
      .from(webhookDeliveries)
      .innerJoin(webhookMessages, eq(webhookMessages.id, webhookDeliveries.messageId))
      .where(eq(webhookDeliveries.endpointId, endpoint.id));
    assert.deepEqual(
      deliveries.map((d) => d.eventId),
      [event],
      'its delivery waits for it to be switched on again',
    );
  });

  it('dates an endpoint change by when it became visible, so planning an event again never changes the answer', async () => {
    const endpoint = await makeEndpoint(org.organizationId, {
      url: 'https://late.example.test/hook',
      eventTypes: ['ticket.assigned' as const],
      enabled: false,
    });
    const ticket = await createTicket(db, org.scope, { subject: 'enabled by a slow transaction' });
    // An admin's enabling transaction begins, and is still open when an event is written and planned.
    let commit!: () => void;
    const committed = new Promise<void>((resolve) => {
      commit = resolve;
    });
    let began!: () => void;
    const hasBegun = new Promise<void>((resolve) => {
      began = resolve;
    });
    const enabling = db.transaction(async (tx) => {
      await tx.update(integrationConfigs).set({ isActive: true }).where(eq(integrationConfigs.id, endpoint.id));
      began();
      await committed;
    });
    await hasBegun;
    const eventId = await append(ticket.id);
    const [row] = await db.select().from(ticketEvents).where(eq(ticketEvents.id, eventId));
    const event = {
      id: row!.id,
      organizationId: row!.organizationId,
      ticketId: row!.supportRequestId,
      type: row!.type,
      payload: row!.payload,
      createdAt: row!.createdAt.toISOString(),
    } as unknown as DispatchedTicketEvent;
    const before = await fanOutDeliveries(db, [event], 256 * 1024);
    commit();
    await enabling;
    const after = await fanOutDeliveries(db, [event], 256 * 1024);
    const reached = (result: typeof before) => result.endpoints.some((e) => e.endpointId === endpoint.id);
    assert.equal(reached(before), false, 'the endpoint was disabled as far as anyone could see');
    assert.equal(reached(after), false, 'and the history agrees: the enabling counts from its commit');
  });

  it('splits the partitions between two relays; when one goes the other takes them all, and nothing is lost', async () => {
    const seenA = recorder();
    const seenB = recorder();
    const tickets = await Promise.all(
      Array.from({ length: 24 }, (_, i) => createTicket(db, org.scope, { subject: `two relays ${i}` })),
    );
    const first = startRelay([seenA.subscriber]);
    const second = startRelay([seenB.subscriber]);
    await eventually(async () => {
      assert.equal(first.metrics().members, 2);
      assert.equal(second.metrics().members, 2);
      assert.equal(first.metrics().partitions + second.metrics().partitions, DEFAULT_PARTITIONS);
      assert.ok(first.metrics().partitions > 0 && second.metrics().partitions > 0);
    });
    for (let round = 0; round < 3; round++) for (const t of tickets) await append(t.id);
    const everything = async () => (await Promise.all(tickets.map((t) => eventIds(t.id)))).flat();
    await eventually(async () => assert.deepEqual(await undispatched(await everything()), []));
    assert.ok(seenA.received.size > 0 && seenB.received.size > 0, 'both relays worked');

    // The first relay goes away (its worker stops; a crash ends its session the same way, see the next test):
    // its locks go with it.
    await first.stop();
    await eventually(async () => assert.equal(second.metrics().partitions, DEFAULT_PARTITIONS));
    for (const t of tickets) await append(t.id);
    await eventually(async () => assert.deepEqual(await undispatched(await everything()), []));
    for (const t of tickets) {
      const got = [...(seenA.received.get(t.id) ?? []), ...(seenB.received.get(t.id) ?? [])].sort((x, y) => x - y);
      assert.deepEqual(got, await eventIds(t.id), `ticket ${t.id}: every event once`);
    }
  });

  it('recovers when its database session is cut: takes its locks again and carries on', async () => {
    const probe = recorder();
    const ticket = await createTicket(db, org.scope, { subject: 'cut session' });
    const relay = startRelay([probe.subscriber]);
    await eventually(async () => assert.deepEqual(await undispatched(await eventIds(ticket.id)), []));
    const cut = await pool.query(
      `select pg_terminate_backend(pid) from pg_locks
        where locktype = 'advisory' and granted and classid = $1 and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())`,
      [RELAY_MEMBER_LOCK],
    );
    assert.equal(cut.rowCount, 1, 'the relay held its member lock on its own session');
    await eventually(async () => assert.equal(relay.metrics().sessionsLost, 1));
    const id = await append(ticket.id);
    await eventually(async () => assert.deepEqual(await undispatched([id]), []));
    assert.equal(relay.metrics().partitions, DEFAULT_PARTITIONS);
  });
});
