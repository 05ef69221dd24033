// The promise of the outbox: a ticket change made while Temporal is down is not lost and not duplicated. It waits
// in ticket_events (its webhook deliveries are written, but the endpoint's wake cannot be), and when Temporal is back
// every event reaches the webhook receiver exactly once. An endpoint whose delivery batch is listening needs no wake:
// its deliveries go on during the outage.
import assert from 'node:assert/strict';
import { ticketEvents } from '@switchboard/database';
import { asc, inArray } from 'drizzle-orm';
import { makeEndpoint } from '../activities/webhooks/test-support.ts';
import { ticketEventTypes } from '../common/ticket-events.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { addComment } from '../domain/tickets/comments.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { updateTicket } from '../domain/tickets/update-ticket.ts';
import { type Receiver, startReceiver } from './receivers/webhook-receiver.ts';
import { testDatabase, truncateAll } from './support/database.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

describe('outbox during a Temporal outage', function () {
  this.timeout(240_000);
  const { db } = testDatabase();
  let pipeline: TestPipeline;
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
    await truncateAll(); // the relay would otherwise first deliver every earlier test file's events
  });
  afterEach(async () => {
    await pipeline?.stop();
  });
  after(async () => {
    await receiver?.close();
  });

  async function eventsOf(ticketIds: string[]) {
    return db
      .select({ id: ticketEvents.id, ticketId: ticketEvents.supportRequestId, dispatchedAt: ticketEvents.dispatchedAt })
      .from(ticketEvents)
      .where(inArray(ticketEvents.supportRequestId, ticketIds))
      .orderBy(asc(ticketEvents.id));
  }

  it('keeps changes in the outbox while Temporal is down, then delivers each exactly once', async () => {
    // Batches end as soon as their deliveries run out, so every delivery needs a wake through Temporal.
    pipeline = await startPipeline(
      uniqueTaskQueue('outage'),
      { retryInitialMs: 100, retryMaxMs: 1_000 },
      { listen: false },
    );
    const temporal = await testTemporal();
    const org = await makeOrganization();
    await makeEndpoint(org.organizationId, { url: receiver.url('/outage'), eventTypes: [...ticketEventTypes] });
    const before = await Promise.all([1, 2].map((i) => createTicket(db, org.scope, { subject: `before ${i}` })));
    await eventually(async () => assert.ok((await eventsOf(before.map((t) => t.id))).every((e) => e.dispatchedAt)));
    // And delivered: the batch their wake started has run. A wake Temporal accepted but no batch has answered yet
    // would carry the outage's deliveries too (the relay sends no second wake while one is pending), and they would
    // not wait in the outbox.
    const beforeEvents = await eventsOf(before.map((t) => t.id));
    await eventually(async () => assert.equal(receiver.requestsTo('/outage').length, beforeEvents.length));

    const during: typeof before = [];
    await temporal.stop();
    try {
      for (let i = 1; i <= 3; i++) during.push(await createTicket(db, org.scope, { subject: `during ${i}` }));
      let version = before[0]!.version;
      for (const priority of ['high', 'urgent', 'low'] as const) {
        version = (await updateTicket(db, org.scope, before[0]!.id, { version, priority })).version;
      }
      await addComment(db, org.scope, before[1]!.id, { body: 'Still there?' });
      await updateTicket(db, org.scope, during[0]!.id, { version: during[0]!.version, status: 'pending' });
      for (const ticket of during) await addComment(db, org.scope, ticket.id, { body: 'while down' });

      const failedBefore = pipeline.relay.metrics().failed;
      // Each failed dispatch may take the relay's whole dispatch timeout (5 s) while the client retries a server that
      // is gone, so three of them can take longer than eventually's default 15 s on a loaded machine.
      await eventually(
        async () => assert.ok(pipeline.relay.metrics().failed > failedBefore + 2, 'the relay keeps trying'),
        { timeoutMs: 45_000 },
      );
      const waiting = (await eventsOf([...before, ...during].map((t) => t.id))).filter((e) => !e.dispatchedAt);
      assert.equal(waiting.length, 3 + 1 + 2 + 3 + 3, 'every change made during the outage waits in the outbox');
    } finally {
      await temporal.restart();
    }

    const ticketIds = [...before, ...during].map((t) => t.id);
    await eventually(
      async () =>
        assert.deepEqual(
          (await eventsOf(ticketIds)).filter((e) => !e.dispatchedAt),
          [],
        ),
      { timeoutMs: 60_000 },
    );
    // Each event reached the receiver once: one message (webhook-id) per event, none twice.
    const events = await eventsOf(ticketIds);
    await eventually(async () => assert.equal(receiver.requestsTo('/outage').length, events.length), {
      timeoutMs: 60_000,
    });
    await new Promise((r) => setTimeout(r, 500));
    const ids = receiver.requestsTo('/outage').map((r) => String(r.headers['webhook-id']));
    assert.equal(new Set(ids).size, events.length, 'no event delivered twice');
    assert.equal(ids.length, events.length);
  });

  it('goes on delivering to an endpoint whose batch listens while Temporal is down, each event once', async () => {
    pipeline = await startPipeline(
      uniqueTaskQueue('outage-listening'),
      { retryInitialMs: 100, retryMaxMs: 1_000 },
      { listen: { quietMs: 30_000, pollMs: 1_000 } },
    );
    const temporal = await testTemporal();
    const org = await makeOrganization();
    await makeEndpoint(org.organizationId, { url: receiver.url('/outage-listening'), eventTypes: ['ticket.updated'] });
    const ticket = await createTicket(db, org.scope, { subject: 'listening through an outage' });
    let version = (await updateTicket(db, org.scope, ticket.id, { version: ticket.version, priority: 'high' })).version;
    await eventually(async () => assert.equal(receiver.requestsTo('/outage-listening').length, 1));

    await temporal.stop();
    try {
      for (const priority of ['urgent', 'low', 'normal'] as const)
        version = (await updateTicket(db, org.scope, ticket.id, { version, priority })).version;
      await eventually(async () => assert.equal(receiver.requestsTo('/outage-listening').length, 4), {
        timeoutMs: 10_000,
      });
    } finally {
      await temporal.restart();
    }
    await eventually(async () => assert.ok((await eventsOf([ticket.id])).every((e) => e.dispatchedAt)), {
      timeoutMs: 60_000,
    });
    await new Promise((r) => setTimeout(r, 1_000));
    const ids = receiver.requestsTo('/outage-listening').map((r) => String(r.headers['webhook-id']));
    assert.equal(ids.length, 4, 'no update delivered twice once Temporal was back');
    assert.equal(new Set(ids).size, 4);
  });
});
