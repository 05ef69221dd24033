// Nothing lost: a retry sequence survives its worker stopping, Temporal restarting, and a batch dying after it
// sent but before it recorded. Every attempt number appears once in the log, none is skipped, and the receiver
// sees at most at-least-once duplicates that carry the same webhook-id.
import assert from 'node:assert/strict';
import { createSafePoster } from '../activities/http/safe-post.ts';
import { deliverDueBatch } from '../activities/webhooks/deliver-batch.ts';
import { enqueueDeliveries } from '../activities/webhooks/enqueue.ts';
import {
  attemptsOf,
  deliveriesOf,
  makeEndpoint,
  setWebhookPolicy,
  syntheticEvent,
  type TestEndpoint,
  verifyWith,
} from '../activities/webhooks/test-support.ts';
import { wakeEndpoint } from '../activities/webhooks/wake.ts';
import { loadConfig } from '../common/config.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { webhooksTaskQueueFor } from '../workflows/webhook-endpoint-contract.ts';
import { behaviours, type Receiver, startReceiver } from './receivers/webhook-receiver.ts';
import { testDatabase } from './support/database.ts';
import { eventually, type RunningWorker, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

const config = loadConfig();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhook durability', function () {
  this.timeout(90_000);
  let receiver: Receiver;
  const workers: RunningWorker[] = [];

  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await receiver?.close();
  });

  async function startWorker(ticketsQueue: string) {
    const temporal = await testTemporal();
    const worker = await temporal.startWebhooksWorker({ db: testDatabase().db, ticketsTaskQueue: ticketsQueue });
    workers.push(worker);
    return worker;
  }

  async function failingEndpoint(path: string, failures: number, retryScheduleMs: number[]) {
    const org = await makeOrganization();
    await setWebhookPolicy(org.organizationId, { retryScheduleMs });
    receiver.route(path, behaviours.failTimes(failures, 500));
    return makeEndpoint(org.organizationId, { url: receiver.url(path) });
  }

  async function publish(endpoint: TestEndpoint, ticketsQueue: string) {
    const temporal = await testTemporal();
    await enqueueDeliveries(
      testDatabase().db,
      syntheticEvent(endpoint.organizationId),
      config.webhooks.payloadLimitBytes,
    );
    await wakeEndpoint(temporal.client, endpoint.id, endpoint.organizationId, {
      taskQueue: webhooksTaskQueueFor(ticketsQueue),
    });
  }

  const attemptsSoFar = async (endpoint: TestEndpoint) => {
    const [delivery] = await deliveriesOf(endpoint.id);
    return delivery ? attemptsOf(delivery.id) : [];
  };

  /** The whole sequence is in the log once, in order, and ended in success; the receiver saw one webhook-id. */
  async function assertCompleteSequence(endpoint: TestEndpoint, path: string, attempts: number) {
    const [delivery] = await eventually(
      async () => {
        const deliveries = await deliveriesOf(endpoint.id);
        assert.equal(deliveries[0]?.status, 'succeeded');
        return deliveries;
      },
      { timeoutMs: 30_000 },
    );
    const log = await attemptsOf(delivery!.id);
    assert.deepEqual(
      log.map((a) => [a.attemptNumber, a.outcome]),
      Array.from({ length: attempts }, (_, i) => [i + 1, i + 1 < attempts ? 'retry' : 'succeeded']),
    );
    const received = receiver.requestsTo(path);
    assert.ok(received.length >= attempts, `${received.length} requests for ${attempts} attempts`);
    assert.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 1);
    for (const request of received) verifyWith(endpoint.secret, request);
  }

  it('resumes a retry sequence on a new worker after the worker stops between attempts', async () => {
    const queue = uniqueTaskQueue('webhook-durability-worker');
    const endpoint = await failingEndpoint('/worker-restart', 3, [0, 1_500, 1_500, 1_500]);
    const first = await startWorker(queue);
    await publish(endpoint, queue);
    await eventually(async () => assert.equal((await attemptsSoFar(endpoint)).length, 1));
    await first.stop();
    // The second attempt falls due while no worker runs.
    await sleep(2_500);
    assert.equal((await attemptsSoFar(endpoint)).length, 1, 'nothing was attempted without a worker');
    await startWorker(queue);
    await assertCompleteSequence(endpoint, '/worker-restart', 4);
  });

  it('resumes a retry sequence after Temporal restarts between attempts', async () => {
    const temporal = await testTemporal();
    const queue = uniqueTaskQueue('webhook-durability-temporal');
    const endpoint = await failingEndpoint('/temporal-restart', 2, [0, 2_000, 2_000]);
    await startWorker(queue);
    await publish(endpoint, queue);
    await eventually(async () => assert.equal((await attemptsSoFar(endpoint)).length, 1));
    await temporal.stop();
    await sleep(1_000);
    await temporal.restart();
    await assertCompleteSequence(endpoint, '/temporal-restart', 3);
  });

  it('re-sends a delivery whose batch died after sending, once its lease expires, with the same webhook-id and attempt number', async () => {
    const { db } = testDatabase();
    const endpoint = await failingEndpoint('/crashed-batch', 0, [0, 100]);
    await enqueueDeliveries(db, syntheticEvent(endpoint.organizationId), config.webhooks.payloadLimitBytes);
    const poster = createSafePoster({ allowHttp: true, allowCidrs: config.webhooks.allowCidrs, timeoutMs: 200 });
    const deps = {
      db,
      credentialKeys: config.credentialKeys,
      timeoutMs: 200,
      retryCompression: 1,
      leaseMarginMs: 300,
      heartbeat: () => {},
    };
    const input = { endpointId: endpoint.id, organizationId: endpoint.organizationId, maxBatch: 10 };
    // The request reaches the receiver, then the worker "dies" before anything is written.
    const dying = {
      post: async (request: Parameters<typeof poster.post>[0]) => {
        await poster.post(request);
        throw new Error('worker killed mid-batch');
      },
      close: () => {},
    };
    await assert.rejects(deliverDueBatch({ ...deps, poster: dying }, input), /worker killed/);
    assert.equal(receiver.requestsTo('/crashed-batch').length, 1);

    const held = await deliverDueBatch({ ...deps, poster }, input);
    assert.equal(held.sent, 0, 'the lease still holds the delivery');
    assert.ok(held.nextDueAt !== null && held.nextDueAt > Date.now(), 'due again when the lease expires');
    await sleep(held.nextDueAt - Date.now() + 50);
    const resent = await deliverDueBatch({ ...deps, poster }, input);
    assert.equal(resent.succeeded, 1);

    const received = receiver.requestsTo('/crashed-batch');
    assert.equal(received.length, 2);
    assert.equal(received[0]!.headers['webhook-id'], received[1]!.headers['webhook-id']);
    const log = await attemptsSoFar(endpoint);
    assert.deepEqual(
      log.map((a) => [a.attemptNumber, a.outcome]),
      [[1, 'succeeded']],
    );
    poster.close();
  });
});
