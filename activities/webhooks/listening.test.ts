// A busy endpoint's batch listens for its next deliveries instead of ending: the relay's fan-out notifies it in its
// own transaction, so a stream of events costs Temporal no wake and no new batch, and the batch never stops
// listening without seeing what a fan-out promised it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { webhookEndpointListeners } from '@switchboard/database';
import { eq, sql } from 'drizzle-orm';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { behaviours, type Receiver, startReceiver } from '../../test/receivers/webhook-receiver.ts';
import { testDatabase } from '../../test/support/database.ts';
import { eventually } from '../../test/support/temporal.ts';
import { createSafePoster } from '../http/safe-post.ts';
import { deliverDueBatch } from './deliver-batch.ts';
import { listenForDeliveries } from './delivery-notifications.ts';
import { fanOutDeliveries } from './enqueue.ts';
import {
  batchDeps,
  deliveriesOf,
  endpointRow,
  makeEndpoint,
  setWebhookPolicy,
  syntheticEvent,
} from './test-support.ts';

const config = loadServiceConfig();
const webhooks = webhookSettings.of(config);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A batch's dependencies with listening on; `wakes` counts the wakes it asked for itself. */
function listeningDeps(
  poster: ReturnType<typeof createSafePoster>,
  listen: { quietMs: number; pollMs: number },
  wakes = { count: 0 },
) {
  const { db } = testDatabase();
  return batchDeps(poster, {
    listen: {
      notifications: listenForDeliveries(db.$client, { maxListeners: 10 }),
      ...listen,
      owner: randomUUID(),
      wake: async () => {
        wakes.count += 1;
      },
    },
  });
}

describe('a listening delivery batch', function () {
  this.timeout(30_000);
  let receiver: Receiver;
  const poster = createSafePoster({ allowHttp: true, allowCidrs: webhooks.allowCidrs, timeoutMs: 2_000 });
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    poster.close();
    await receiver?.close();
  });

  /** The endpoint's listener row, if it has one. */
  async function listenerOf(endpointId: string) {
    const [row] = await testDatabase()
      .db.select()
      .from(webhookEndpointListeners)
      .where(eq(webhookEndpointListeners.endpointId, endpointId));
    return row;
  }
  /** A batch of up to 1000 of the endpoint's deliveries. */
  const batchOf = (endpoint: { id: string; organizationId: string }) => ({
    endpointId: endpoint.id,
    organizationId: endpoint.organizationId,
    maxBatch: 1000,
  });

  it('sends what the fan-out announces without a wake, and stops only after seeing every delivery announced to it', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    await setWebhookPolicy(org.organizationId, { retryScheduleMs: [0, 60_000] });
    receiver.route('/listening', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/listening'), maxConcurrency: 4 });
    const fanOut = async () => {
      const event = syntheticEvent(org.organizationId);
      const { endpoints, messages } = await fanOutDeliveries(db, [event], webhooks.payloadLimitBytes);
      return { listening: endpoints[0]!.listening, messageId: messages.get(event.id)!.messageId, at: Date.now() };
    };

    const first = await fanOut();
    assert.equal(first.listening, false, 'nobody listens yet: this one needs a wake');
    // Polls far apart, so a delivery that arrives quickly was announced by NOTIFY, not found by a poll.
    const batch = deliverDueBatch(listeningDeps(poster, { quietMs: 700, pollMs: 10_000 }), batchOf(endpoint));
    await receiver.waitForCount(1);

    // A steady stream, then a pause past the quiet time while fan-outs keep coming, so some race the batch's stop.
    const announced: Array<{ listening: boolean; messageId: string; at: number }> = [];
    for (let i = 0; i < 10; i++) {
      announced.push(await fanOut());
      await sleep(60);
    }
    const stoppedBy = Date.now() + 1_500;
    while (Date.now() < stoppedBy) {
      announced.push(await fanOut());
      await sleep(25);
    }
    const result = await batch;

    const promised = announced.filter((a) => a.listening);
    assert.ok(promised.length >= 10, `${promised.length} of ${announced.length} fan-outs found the batch listening`);
    const later = await fanOut();
    assert.equal(later.listening, false, 'once the batch has returned, fan-outs wake the endpoint again');
    announced.push(later);

    const received = new Map(receiver.requestsTo('/listening').map((r) => [r.headers['webhook-id'], r.receivedAt]));
    for (const a of promised) {
      const at = received.get(a.messageId);
      assert.ok(at !== undefined, `${a.messageId} was announced to the listening batch and never sent`);
      assert.ok(at - a.at < 2_000, `${a.messageId} took ${at - a.at} ms: notified, not found by a 10 s poll`);
    }
    assert.equal(result.sent, received.size, 'every request came from this batch');
    assert.ok(received.has(first.messageId));
    const listener = await listenerOf(endpoint.id);
    assert.equal(listener?.listeningUntil, null, 'the batch said it stopped listening');
    const pending = (await deliveriesOf(endpoint.id)).filter((d) => d.status === 'pending');
    assert.equal(
      pending.length,
      announced.filter((a) => !received.has(a.messageId)).length,
      'what is left was announced with a wake (none comes in this test), never to the listening batch',
    );
  });

  it('waits, before it stops listening, for a fan-out that found it listening, and sends what that fan-out wrote', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    receiver.route('/stop-race', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/stop-race') });
    await fanOutDeliveries(db, [syntheticEvent(org.organizationId)], webhooks.payloadLimitBytes);
    const batch = deliverDueBatch(listeningDeps(poster, { quietMs: 1_000, pollMs: 100 }), batchOf(endpoint));
    await receiver.waitForCount(1);
    await eventually(async () => {
      const row = await listenerOf(endpoint.id);
      assert.ok(row?.listeningUntil);
    });

    // A relay's fan-out that finds the batch listening (so sends no wake) and takes 2.5 s to commit: the batch's
    // quiet time runs out meanwhile, and it may not stop before it can see this delivery.
    const event = syntheticEvent(org.organizationId);
    let committedAt = 0;
    await db.transaction(async (tx) => {
      const { endpoints } = await fanOutDeliveries(tx, [event], webhooks.payloadLimitBytes);
      assert.equal(endpoints[0]!.listening, true);
      await sleep(2_500);
      committedAt = Date.now();
    });
    const result = await batch;
    assert.equal(result.sent, 2);
    const requests = receiver.requestsTo('/stop-race');
    assert.equal(requests.length, 2, 'the delivery written while the batch was stopping went out from the batch');
    assert.ok(requests[1]!.receivedAt >= committedAt);
    assert.deepEqual(
      (await deliveriesOf(endpoint.id)).map((d) => d.status),
      ['succeeded', 'succeeded'],
    );
  });

  it('ends when its endpoint changes, so nothing more goes out with the settings it loaded', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    receiver.route('/before-change', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/before-change') });
    await fanOutDeliveries(db, [syntheticEvent(org.organizationId)], webhooks.payloadLimitBytes);
    const began = Date.now();
    const batch = deliverDueBatch(listeningDeps(poster, { quietMs: 10_000, pollMs: 200 }), batchOf(endpoint));
    await receiver.waitForCount(1);
    // What the API's update does to the row: a new URL, and updated_at.
    await db.execute(sql`
      update integration_configs set config = jsonb_set(config, '{url}', to_jsonb(${receiver.url('/after-change')}::text)),
        updated_at = now()
      where id = ${endpoint.id}`);
    const result = await batch;
    assert.ok(Date.now() - began < 3_000, 'the batch ended within a poll interval or so of the change, not after 10 s');
    assert.equal(result.sent, 1);
    const { endpoints } = await fanOutDeliveries(db, [syntheticEvent(org.organizationId)], 256 * 1024);
    assert.equal(
      endpoints[0]!.listening,
      false,
      'the next delivery wakes the workflow, whose next batch loads the new URL',
    );
    assert.equal(receiver.requestsTo('/before-change').length, 1);
  });

  it('cannot keep fan-outs from waking its endpoint once a newer attempt has taken the endpoint over', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    receiver.route('/superseded', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/superseded') });
    const input = batchOf(endpoint);
    await fanOutDeliveries(db, [syntheticEvent(org.organizationId)], webhooks.payloadLimitBytes);
    // The old attempt: its heartbeat was lost (say), but it still runs and would renew its row every second or so.
    const wakes = { count: 0 };
    const old = deliverDueBatch(listeningDeps(poster, { quietMs: 2_000, pollMs: 100 }, wakes), input);
    await receiver.waitForCount(1);
    await eventually(async () => {
      const row = await listenerOf(endpoint.id);
      assert.ok(row?.listeningUntil);
    });
    // The newer attempt takes the endpoint over (and finds nothing to send).
    const newer = await deliverDueBatch(listeningDeps(poster, { quietMs: 2_000, pollMs: 100 }), input);
    assert.equal(newer.sent, 0);
    // Through the old attempt's renewal time: every fan-out now wakes the endpoint.
    const until = Date.now() + 1_800;
    while (Date.now() < until) {
      const { endpoints } = await fanOutDeliveries(
        db,
        [syntheticEvent(org.organizationId)],
        webhooks.payloadLimitBytes,
      );
      assert.equal(endpoints[0]!.listening, false, 'a superseded batch said it listens');
      await sleep(50);
    }
    await old;
  });

  it('lets only so many batches of a process listen, so they never fill the worker', async () => {
    const { db } = testDatabase();
    const notifications = listenForDeliveries(db.$client, { maxListeners: 2 });
    const a = await notifications.hold();
    const b = await notifications.hold();
    assert.ok(a && b);
    assert.equal(await notifications.hold(), null, 'a third batch ends as before instead of listening');
    a();
    a();
    const c = await notifications.hold();
    assert.ok(c, 'a released place can be taken again (releasing twice frees one place)');
    assert.equal(notifications.listening(), 2);
    b();
    c();
    assert.equal(notifications.listening(), 0);
  });

  it('leaves the endpoint failing when its latest attempt failed, though an earlier one of the same batch succeeded', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    await setWebhookPolicy(org.organizationId, { retryScheduleMs: [0] });
    // One request at a time: the first is answered 200, the second 500.
    receiver.route('/then-failing', ({ nthOnPath }) => ({ status: nthOnPath === 1 ? 200 : 500 }));
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/then-failing'), maxConcurrency: 1 });
    const events = [syntheticEvent(org.organizationId), syntheticEvent(org.organizationId)];
    await fanOutDeliveries(db, events, webhooks.payloadLimitBytes);
    const result = await deliverDueBatch(
      { ...listeningDeps(poster, { quietMs: 100, pollMs: 50 }), listen: undefined },
      batchOf(endpoint),
    );
    assert.deepEqual([result.sent, result.succeeded], [2, 1]);
    const row = await endpointRow(endpoint.id);
    assert.ok(row.lastSuccessAt && row.lastErrorAt, 'both outcomes recorded');
    assert.ok(row.lastErrorAt > row.lastSuccessAt, 'the failure, which came last, is the latest outcome');
    assert.match(row.lastError ?? '', /500/);
  });

  it('does not listen when its wake found nothing to send', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/idle') });
    const began = Date.now();
    const result = await deliverDueBatch(listeningDeps(poster, { quietMs: 5_000, pollMs: 1_000 }), batchOf(endpoint));
    assert.equal(result.sent, 0);
    assert.ok(Date.now() - began < 1_000, 'an empty batch ends at once');
    const { endpoints } = await fanOutDeliveries(db, [syntheticEvent(org.organizationId)], 256 * 1024);
    assert.equal(endpoints[0]!.listening, false);
  });
});
