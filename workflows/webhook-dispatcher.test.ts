// The webhook dispatcher end to end (real Temporal, PostgreSQL, worker and HTTP): endpoints announced to it get their
// batches many to an activity, and no workflow of their own unless retries are left for later; a batch that fails is
// held back and tried again without holding the others up; its history stays bounded; and a worker killed in the
// middle of a group loses nothing.
import assert from 'node:assert/strict';
import { integrationConfigs, webhookDeliveries } from '@switchboard/database';
import { WorkflowNotFoundError } from '@temporalio/client';
import type protos from '@temporalio/proto';
import { and, eq } from 'drizzle-orm';
import { enqueueDeliveries } from '../activities/webhooks/enqueue.ts';
import {
  attemptsOf,
  deliveriesOf,
  makeEndpoint,
  setWebhookPolicy,
  syntheticEvent,
  type TestEndpoint,
} from '../activities/webhooks/test-support.ts';
import { dispatchEndpoints } from '../activities/webhooks/wake.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { loadServiceConfig } from '../packages/integrations/index.ts';
import { webhookSettings } from '../packages/integrations/webhooks/settings.ts';
import { behaviours, type Receiver, startReceiver } from '../test/receivers/webhook-receiver.ts';

import { TEST_DATABASE_URL, testDatabase } from '../test/support/database.ts';
import { eventually, type RunningWorker, testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';
import { spawnWorkerProcess } from '../test/support/worker-process.ts';
import {
  dispatcherStateQuery,
  webhookDispatcherWorkflowId,
  webhookEndpointWorkflowId,
  webhooksTaskQueueFor,
} from './webhook-endpoint-contract.ts';

const limit = webhookSettings.of(loadServiceConfig()).payloadLimitBytes;

describe('webhook dispatcher', function () {
  this.timeout(120_000);
  let receiver: Receiver;
  const workers: RunningWorker[] = [];
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    for (const w of workers) await w.stop();
    await receiver?.close();
  });

  async function startWorker(ticketsQueue: string, options: { listen?: false } = {}) {
    const worker = await (await testTemporal()).startWebhooksWorker({
      db: testDatabase().db,
      ticketsTaskQueue: ticketsQueue,
      ...options,
    });
    workers.push(worker);
    return worker;
  }

  async function publish(organizationId: string, count: number) {
    for (let i = 0; i < count; i++) await enqueueDeliveries(testDatabase().db, syntheticEvent(organizationId), limit);
  }

  const succeeded = async (endpoint: TestEndpoint) =>
    (await deliveriesOf(endpoint.id)).filter((d) => d.status === 'succeeded').length;

  /** The workflow's runs from the first, following continue-as-new: their histories' events. */
  async function runsOf(workflowId: string) {
    const temporal = await testTemporal();
    const runs: protos.temporal.api.history.v1.IHistoryEvent[][] = [];
    const first = await temporal.client.workflow.getHandle(workflowId).describe();
    let runId: string | undefined = first.raw.workflowExecutionInfo?.firstRunId || first.runId;
    while (runId) {
      const events: protos.temporal.api.history.v1.IHistoryEvent[] =
        (await temporal.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
      runs.push(events);
      const last: protos.temporal.api.history.v1.IHistoryEvent | undefined = events.at(-1);
      runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    return runs;
  }

  const activityTypes = (events: protos.temporal.api.history.v1.IHistoryEvent[]) =>
    events.flatMap((e) =>
      e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
    );

  async function hasWorkflow(workflowId: string): Promise<boolean> {
    try {
      await (await testTemporal()).client.workflow.getHandle(workflowId).describe();
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  it('sends a burst to 20 endpoints announced in one signal in a few group activities, and starts no endpoint workflow', async () => {
    const ticketsQueue = uniqueTaskQueue('dispatcher-burst');
    await startWorker(ticketsQueue);
    const org = await makeOrganization();
    receiver.route('/burst', behaviours.ok());
    const endpoints = await Promise.all(
      Array.from({ length: 20 }, () => makeEndpoint(org.organizationId, { url: receiver.url('/burst') })),
    );
    await publish(org.organizationId, 10);
    const temporal = await testTemporal();
    const webhooksQueue = webhooksTaskQueueFor(ticketsQueue);
    await dispatchEndpoints(
      temporal.client,
      endpoints.map((e) => ({ endpointId: e.id, organizationId: org.organizationId })),
      { taskQueue: webhooksQueue },
    );
    await eventually(
      async () => {
        for (const e of endpoints) assert.equal(await succeeded(e), 10);
      },
      { timeoutMs: 30_000 },
    );
    const [run] = await runsOf(webhookDispatcherWorkflowId(webhooksQueue));
    const groups = activityTypes(run!).filter((t) => t === 'deliverEndpointBatches').length;
    // One signal: the first group takes all 20 (each batch listens a while, so none is announced again).
    assert.equal(groups, 1, `${groups} group activities for 20 endpoints`);
    for (const e of endpoints) {
      assert.equal(await hasWorkflow(webhookEndpointWorkflowId(e.id)), false, 'no retry left, so no endpoint workflow');
    }
  });

  it('hands an endpoint with a retry due later to its own workflow, which keeps the timer and announces it back, running no batch itself', async () => {
    const ticketsQueue = uniqueTaskQueue('dispatcher-retry');
    await startWorker(ticketsQueue);
    const org = await makeOrganization();
    await setWebhookPolicy(org.organizationId, { retryScheduleMs: [0, 500, 500] });
    receiver.route('/retry', behaviours.failTimes(2, 503));
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/retry') });
    await publish(org.organizationId, 1);
    await dispatchEndpoints(
      (await testTemporal()).client,
      [{ endpointId: endpoint.id, organizationId: org.organizationId }],
      { taskQueue: webhooksTaskQueueFor(ticketsQueue) },
    );
    await eventually(async () => assert.equal(await succeeded(endpoint), 1), { timeoutMs: 30_000 });
    const [delivery] = await deliveriesOf(endpoint.id);
    assert.deepEqual(
      (await attemptsOf(delivery!.id)).map((a) => a.outcome),
      ['retry', 'retry', 'succeeded'],
    );
    const types = (await runsOf(webhookEndpointWorkflowId(endpoint.id))).flatMap(activityTypes);
    assert.ok(types.length >= 2, `the endpoint workflow took turns: ${types.join(', ')}`);
    assert.deepEqual(new Set(types), new Set(['dispatchIfDue']), 'and never ran a batch itself');
  });

  it('gives a fast endpoint its next batch while a slow one of the same group still sends', async () => {
    // Batches that do not listen: a new delivery for the fast endpoint needs a new batch, not a notification.
    const ticketsQueue = uniqueTaskQueue('dispatcher-isolation');
    await startWorker(ticketsQueue, { listen: false });
    const org = await makeOrganization();
    receiver.route('/group-slow', behaviours.slow(6_000));
    receiver.route('/group-fast', behaviours.ok());
    const slow = await makeEndpoint(org.organizationId, { url: receiver.url('/group-slow') });
    const fast = await makeEndpoint(org.organizationId, { url: receiver.url('/group-fast') });
    const temporal = await testTemporal();
    const announce = (endpoints: TestEndpoint[]) =>
      dispatchEndpoints(
        temporal.client,
        endpoints.map((e) => ({ endpointId: e.id, organizationId: org.organizationId })),
        { taskQueue: webhooksTaskQueueFor(ticketsQueue) },
      );
    await publish(org.organizationId, 1);
    await announce([slow, fast]);
    await eventually(async () => {
      assert.equal(await succeeded(fast), 1);
      assert.equal(receiver.requestsTo('/group-slow').length, 1);
    });
    const slowStarted = receiver.requestsTo('/group-slow')[0]!.receivedAt;
    // A second delivery for the fast endpoint alone, announced while the slow one's request hangs.
    const event = syntheticEvent(org.organizationId);
    await enqueueDeliveries(testDatabase().db, event, limit);
    // (The slow endpoint gets none of it: it has one request to hang on.)
    await testDatabase()
      .db.delete(webhookDeliveries)
      .where(and(eq(webhookDeliveries.endpointId, slow.id), eq(webhookDeliveries.status, 'pending')));
    await announce([fast]);
    await eventually(async () => assert.equal(await succeeded(fast), 2), { timeoutMs: 10_000 });
    const secondAt = receiver.requestsTo('/group-fast')[1]!.receivedAt;
    // The slow request takes 6 s: the fast endpoint's second batch did not wait for it.
    assert.ok(secondAt - slowStarted < 4_000, `sent ${secondAt - slowStarted} ms after the slow request started`);
  });

  it('holds back an endpoint whose batch fails, shows why, and goes on with the others in its group', async () => {
    const ticketsQueue = uniqueTaskQueue('dispatcher-failing');
    await startWorker(ticketsQueue);
    const org = await makeOrganization();
    receiver.route('/healthy', behaviours.ok());
    const healthy = await makeEndpoint(org.organizationId, { url: receiver.url('/healthy') });
    const broken = await makeEndpoint(org.organizationId, { url: receiver.url('/broken') });
    // Its credentials gone: loading the batch throws ("has no signing secret") on every try.
    await testDatabase()
      .db.update(integrationConfigs)
      .set({ credentials: null })
      .where(eq(integrationConfigs.id, broken.id));
    await publish(org.organizationId, 3);
    const temporal = await testTemporal();
    const webhooksQueue = webhooksTaskQueueFor(ticketsQueue);
    await dispatchEndpoints(
      temporal.client,
      [broken, healthy].map((e) => ({ endpointId: e.id, organizationId: org.organizationId })),
      { taskQueue: webhooksQueue },
    );
    await eventually(async () => assert.equal(await succeeded(healthy), 3));
    const dispatcher = temporal.client.workflow.getHandle(webhookDispatcherWorkflowId(webhooksQueue));
    const held = await eventually(async () => {
      const state = await dispatcher.query(dispatcherStateQuery);
      const entry = state.held.find((h) => h.endpointId === broken.id);
      assert.ok(entry && entry.failures >= 2, `held after failures: ${JSON.stringify(state)}`);
      return entry;
    });
    assert.equal(held.error, 'Error', 'the kind of error, not its message');
    assert.ok(held.until > Date.now() - 1_000);
    assert.equal(receiver.requestsTo('/broken').length, 0);
    assert.equal((await deliveriesOf(broken.id)).filter((d) => d.status === 'pending').length, 3, 'nothing lost');
  });

  it('keeps its history bounded: 300 deliveries in batches of 50, continuing as new every three groups', async () => {
    const ticketsQueue = uniqueTaskQueue('dispatcher-bounded');
    await startWorker(ticketsQueue);
    const org = await makeOrganization();
    receiver.route('/bulk', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/bulk') });
    await publish(org.organizationId, 300);
    const webhooksQueue = webhooksTaskQueueFor(ticketsQueue);
    await dispatchEndpoints(
      (await testTemporal()).client,
      [{ endpointId: endpoint.id, organizationId: org.organizationId }],
      { taskQueue: webhooksQueue, workflow: { maxBatch: 50, groupsPerRun: 3 } },
    );
    await eventually(async () => assert.equal(await succeeded(endpoint), 300), { timeoutMs: 60_000 });
    assert.equal(new Set(receiver.requestsTo('/bulk').map((r) => r.headers['webhook-id'])).size, 300);
    const runs = await runsOf(webhookDispatcherWorkflowId(webhooksQueue));
    const groups = runs.flatMap(activityTypes).length;
    assert.ok(runs.length >= 2, `continued as new (${runs.length} runs)`);
    assert.ok(groups >= 6 && groups <= 12, `${groups} group activities for 300 deliveries in batches of 50`);
    for (const events of runs) assert.ok(events.length < 60, `${events.length} history events in a run`);
  });

  it('loses nothing when its worker is killed in the middle of a group: the group fails, its endpoints get a new one, the leases free what was on the wire', async () => {
    const temporal = await testTemporal();
    const ticketsQueue = uniqueTaskQueue('dispatcher-kill');
    const org = await makeOrganization();
    const paths = ['/kill-0', '/kill-1', '/kill-2', '/kill-3'];
    for (const path of paths) receiver.route(path, behaviours.slow(400));
    const endpoints = await Promise.all(
      paths.map((path) => makeEndpoint(org.organizationId, { url: receiver.url(path), maxConcurrency: 2 })),
    );
    const sent = () => paths.reduce((n, path) => n + receiver.requestsTo(path).length, 0);
    await publish(org.organizationId, 10);
    const child = await spawnWorkerProcess({
      script: 'test/support/module-worker-process.ts',
      env: {
        SWITCHBOARD_TEST_MODULE: 'webhook',
        SWITCHBOARD_TEST_TEMPORAL_ADDRESS: temporal.address,
        SWITCHBOARD_TEST_TEMPORAL_NAMESPACE: temporal.namespace,
        SWITCHBOARD_TEST_QUEUE: ticketsQueue,
        SWITCHBOARD_TEST_DATABASE_URL: TEST_DATABASE_URL,
        SWITCHBOARD_WEBHOOK_TIMEOUT_MS: '2000',
      },
      readyLine: 'webhook worker running',
    });
    await dispatchEndpoints(
      temporal.client,
      endpoints.map((e) => ({ endpointId: e.id, organizationId: org.organizationId })),
      { taskQueue: webhooksTaskQueueFor(ticketsQueue) },
    );
    // Two requests per endpoint at a time, 400 ms each: the kill lands with requests on the wire and most to come.
    await eventually(async () => assert.ok(sent() >= 8), { intervalMs: 20 });
    await child.kill();
    const before = sent();
    assert.ok(before < 40, `killed mid-group (${before} of 40 sent)`);
    await startWorker(ticketsQueue);
    await eventually(
      async () => {
        for (const e of endpoints) assert.equal(await succeeded(e), 10);
      },
      { timeoutMs: 90_000 },
    );
    for (const e of endpoints) {
      for (const delivery of await deliveriesOf(e.id)) {
        const attempts = await attemptsOf(delivery.id);
        // A request on the wire at the kill has an attempt whose outcome is unknown; the delivery's last succeeded.
        assert.equal(attempts.at(-1)?.outcome, 'succeeded');
        assert.ok(attempts.slice(0, -1).every((a) => a.outcome === 'sending'));
      }
    }
    // Whatever an endpoint received twice carried the same webhook-id both times: 10 messages each, no more. And
    // never more than its two requests at once: no second batch of an endpoint ran beside the first.
    for (const path of paths) {
      assert.equal(new Set(receiver.requestsTo(path).map((r) => r.headers['webhook-id'])).size, 10);
      assert.ok(receiver.peakOpen(path) <= 2, `${path}: ${receiver.peakOpen(path)} requests at once`);
    }
  });
});
