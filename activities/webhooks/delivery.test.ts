// Delivery semantics against real PostgreSQL, a real Temporal server and real HTTP receivers on loopback: what
// an endpoint receives, how failures are retried, what disables an endpoint, what is refused before sending.
import assert from 'node:assert/strict';
import { generateSecret } from '../../common/webhooks/standard-webhooks.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { type Behaviour, behaviours, type Receiver, startReceiver } from '../../test/receivers/webhook-receiver.ts';
import { testDatabase } from '../../test/support/database.ts';
import { eventually, type RunningWorker, testTemporal, uniqueTaskQueue } from '../../test/support/temporal.ts';
import { webhooksTaskQueueFor } from '../../workflows/webhook-endpoint-contract.ts';
import { enqueueDeliveries } from './enqueue.ts';
import {
  attemptsOf,
  deliveriesOf,
  endpointRow,
  integrationEventsOf,
  makeEndpoint,
  setWebhookPolicy,
  syntheticEvent,
  type TestEndpoint,
  verifyWith,
} from './test-support.ts';
import { wakeEndpoint } from './wake.ts';

const REQUEST_TIMEOUT_MS = 500;

describe('webhook delivery', function () {
  this.timeout(60_000);
  const ticketsQueue = uniqueTaskQueue('webhook-delivery');
  const webhooks = webhookSettings.of(loadServiceConfig());
  let worker: RunningWorker;
  let receiver: Receiver;

  before(async () => {
    const temporal = await testTemporal();
    worker = await temporal.startWebhooksWorker({
      db: testDatabase().db,
      ticketsTaskQueue: ticketsQueue,
      settings: { timeoutMs: REQUEST_TIMEOUT_MS },
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  /** What the ticket workflow's subscription does, minus the ticket: enqueue, then wake each endpoint. */
  async function publish(organizationId: string, payload?: unknown) {
    const event = syntheticEvent(organizationId, 'ticket.created', payload);
    const result = await enqueueDeliveries(testDatabase().db, event, webhooks.payloadLimitBytes);
    const temporal = await testTemporal();
    for (const id of result.endpointIds) {
      await wakeEndpoint(temporal.client, id, organizationId, { taskQueue: webhooksTaskQueueFor(ticketsQueue) });
    }
    return { event, result };
  }

  async function endpointAnswering(
    path: string,
    behaviour: Behaviour,
    policy: { retryScheduleMs: number[]; disableAfterMs?: number },
  ) {
    const org = await makeOrganization();
    await setWebhookPolicy(org.organizationId, policy);
    receiver.route(path, behaviour);
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url(path) });
    return endpoint;
  }

  async function settled(endpoint: TestEndpoint, timeoutMs = 15_000) {
    return eventually(
      async () => {
        const [delivery] = await deliveriesOf(endpoint.id);
        assert.ok(delivery, 'a delivery exists');
        assert.notEqual(delivery.status, 'pending', `delivery still pending after ${delivery.attemptCount} attempts`);
        return { delivery, attempts: await attemptsOf(delivery.id) };
      },
      { timeoutMs },
    );
  }

  it('retries a failing receiver on the schedule and succeeds, every attempt signed with the same webhook-id', async () => {
    const endpoint = await endpointAnswering('/fail-twice', behaviours.failTimes(2, 503), {
      retryScheduleMs: [0, 300, 300, 300],
    });
    const { event } = await publish(endpoint.organizationId);
    const { delivery, attempts } = await settled(endpoint);

    assert.equal(delivery.status, 'succeeded');
    assert.equal(delivery.attemptCount, 3);
    assert.deepEqual(
      attempts.map((a) => [a.attemptNumber, a.statusCode, a.outcome]),
      [
        [1, 503, 'retry'],
        [2, 503, 'retry'],
        [3, 200, 'succeeded'],
      ],
    );
    const received = receiver.requestsTo('/fail-twice');
    assert.equal(received.length, 3);
    assert.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 1, 'one webhook-id across retries');
    for (const request of received) {
      assert.deepEqual(verifyWith(endpoint.secret, request), {
        type: 'ticket.created',
        timestamp: event.createdAt,
        data: event.payload,
      });
    }
    // 300 ms ± 10% jitter between attempts: retried on the schedule, not at once.
    for (let i = 1; i < received.length; i++) {
      assert.ok(received[i]!.receivedAt - received[i - 1]!.receivedAt >= 250, 'waited for the scheduled delay');
    }
  });

  it('gives up with a failed delivery once the schedule is exhausted', async () => {
    const endpoint = await endpointAnswering('/always-500', behaviours.status(500, 'boom'), {
      retryScheduleMs: [0, 100, 100],
    });
    await publish(endpoint.organizationId);
    const { delivery, attempts } = await settled(endpoint);
    assert.equal(delivery.status, 'failed');
    assert.deepEqual(
      attempts.map((a) => [a.attemptNumber, a.outcome, a.responseExcerpt]),
      [
        [1, 'retry', 'boom'],
        [2, 'retry', 'boom'],
        [3, 'failed', 'boom'],
      ],
    );
    assert.equal(receiver.requestsTo('/always-500').length, 3);
    assert.match((await endpointRow(endpoint.id)).lastError ?? '', /HTTP 500/);
  });

  it('records a receiver that does not answer within the timeout as a timed-out attempt and retries it', async () => {
    const endpoint = await endpointAnswering('/hang', behaviours.hang(), { retryScheduleMs: [0, 100] });
    await publish(endpoint.organizationId);
    const { delivery, attempts } = await settled(endpoint);
    assert.equal(delivery.status, 'failed');
    assert.deepEqual(
      attempts.map((a) => [a.errorClass, a.statusCode, a.outcome]),
      [
        ['timeout', null, 'retry'],
        ['timeout', null, 'failed'],
      ],
    );
    for (const a of attempts) {
      const ms = a.durationMs ?? Number.NaN;
      assert.ok(ms >= REQUEST_TIMEOUT_MS - 50 && ms < REQUEST_TIMEOUT_MS + 1000, `${ms} ms`);
    }
  });

  it('waits as long as a 429 Retry-After asks, although the schedule says sooner', async () => {
    const throttleOnce: Behaviour = ({ nthForMessage }) =>
      nthForMessage === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 };
    const endpoint = await endpointAnswering('/throttle', throttleOnce, { retryScheduleMs: [0, 100, 100] });
    await publish(endpoint.organizationId);
    const { delivery, attempts } = await settled(endpoint);
    assert.equal(delivery.status, 'succeeded');
    assert.deepEqual(
      attempts.map((a) => [a.statusCode, a.outcome]),
      [
        [429, 'retry'],
        [200, 'succeeded'],
      ],
    );
    const [first, second] = receiver.requestsTo('/throttle');
    assert.ok(
      second!.receivedAt - first!.receivedAt >= 1900,
      `retried after ${second!.receivedAt - first!.receivedAt} ms`,
    );
  });

  it('does not follow a redirect: a 3xx is a failed attempt and the target is never called', async () => {
    receiver.route('/moved-here', behaviours.ok());
    const endpoint = await endpointAnswering('/moved', behaviours.redirect(receiver.url('/moved-here'), 301), {
      retryScheduleMs: [0, 100],
    });
    await publish(endpoint.organizationId);
    const { delivery, attempts } = await settled(endpoint);
    assert.equal(delivery.status, 'failed');
    assert.deepEqual(
      attempts.map((a) => a.statusCode),
      [301, 301],
    );
    assert.match(attempts[0]!.responseExcerpt ?? '', /redirect to .*\/moved-here not followed/);
    assert.equal(receiver.requestsTo('/moved-here').length, 0);
  });

  it('disables the endpoint on 410 Gone, records endpoint.disabled, and sends it nothing more', async () => {
    const endpoint = await endpointAnswering('/gone', behaviours.gone(), { retryScheduleMs: [0, 100, 100] });
    await publish(endpoint.organizationId);
    const { delivery, attempts } = await settled(endpoint);
    assert.equal(delivery.status, 'failed');
    assert.deepEqual(
      attempts.map((a) => [a.statusCode, a.outcome]),
      [[410, 'disabled']],
    );
    // The attempt is recorded first, then the endpoint switched off, in the same batch.
    await eventually(async () => assert.equal((await endpointRow(endpoint.id)).isActive, false));
    const row = await endpointRow(endpoint.id);
    assert.equal(row.isActive, false);
    assert.match(row.disabledReason ?? '', /410 Gone/);
    const events = await integrationEventsOf(endpoint.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['endpoint.disabled'],
    );
    const { result } = await publish(endpoint.organizationId);
    assert.deepEqual(result.endpointIds, [], 'a disabled endpoint gets no new deliveries');
    assert.equal(receiver.requestsTo('/gone').length, 1);
  });

  it('disables an endpoint whose every attempt has failed for the configured window', async () => {
    const endpoint = await endpointAnswering('/down', behaviours.status(502), {
      retryScheduleMs: [0, 200, 200, 200, 200, 200, 200, 200],
      disableAfterMs: 500,
    });
    await publish(endpoint.organizationId);
    const row = await eventually(async () => {
      const row = await endpointRow(endpoint.id);
      assert.equal(row.isActive, false);
      return row;
    });
    assert.match(row.disabledReason ?? '', /every attempt failed for/);
    const events = await integrationEventsOf(endpoint.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ['endpoint.disabled'],
    );
    const [delivery] = await deliveriesOf(endpoint.id);
    const attempts = await attemptsOf(delivery!.id);
    assert.ok(
      attempts.length >= 2 && attempts.length < 8,
      `stopped after ${attempts.length} attempts, not the whole schedule`,
    );
  });

  it('signs with both secrets during a rotation overlap, each verifying on its own, and with one after it', async () => {
    const org = await makeOrganization();
    const oldSecret = generateSecret();
    receiver.route('/rotating', behaviours.ok());
    receiver.route('/rotated', behaviours.ok());
    const during = await makeEndpoint(org.organizationId, {
      url: receiver.url('/rotating'),
      previousSecret: { secret: oldSecret, validUntil: new Date(Date.now() + 3_600_000) },
    });
    const after = await makeEndpoint(org.organizationId, {
      url: receiver.url('/rotated'),
      previousSecret: { secret: oldSecret, validUntil: new Date(Date.now() - 1000) },
    });
    await publish(org.organizationId);
    await settled(during);
    await settled(after);

    const [overlap] = receiver.requestsTo('/rotating');
    assert.equal(String(overlap!.headers['webhook-signature']).split(' ').length, 2);
    verifyWith(during.secret, overlap!);
    verifyWith(oldSecret, overlap!);
    const [later] = receiver.requestsTo('/rotated');
    assert.equal(String(later!.headers['webhook-signature']).split(' ').length, 1);
    verifyWith(after.secret, later!);
    assert.throws(() => verifyWith(oldSecret, later!));
  });

  it('refuses a payload over the limit at the source with a recorded, readable error and sends nothing', async () => {
    const endpoint = await endpointAnswering('/big', behaviours.ok(), { retryScheduleMs: [0] });
    const { result } = await publish(endpoint.organizationId, { blob: 'x'.repeat(webhooks.payloadLimitBytes) });
    assert.match(result.refused ?? '', /over the 262144-byte limit/);
    const [delivery] = await deliveriesOf(endpoint.id);
    assert.equal(delivery!.status, 'failed');
    const attempts = await attemptsOf(delivery!.id);
    assert.deepEqual(
      attempts.map((a) => [a.errorClass, a.outcome]),
      [['payload_too_large', 'failed']],
    );
    assert.match(attempts[0]!.responseExcerpt ?? '', /^payload is \d+ bytes, over the 262144-byte limit: not sent$/);
    assert.equal(receiver.requestsTo('/big').length, 0);
  });

  it('enqueues each event once however often the activity runs (one message, one delivery per endpoint)', async () => {
    const endpoint = await endpointAnswering('/once', behaviours.ok(), { retryScheduleMs: [0] });
    const event = syntheticEvent(endpoint.organizationId);
    const first = await enqueueDeliveries(testDatabase().db, event, webhooks.payloadLimitBytes);
    const again = await enqueueDeliveries(testDatabase().db, event, webhooks.payloadLimitBytes);
    assert.equal(again.messageId, first.messageId);
    assert.match(first.messageId ?? '', /^msg_[0-9A-Z]{26}$/);
    assert.equal((await deliveriesOf(endpoint.id)).length, 1);
  });
});
