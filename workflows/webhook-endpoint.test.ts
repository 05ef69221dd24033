// The endpoint workflow end to end: ticket events written through the domain reach the right endpoints through
// the real outbox relay, ticket workflow, webhooks worker and HTTP; and an endpoint's Temporal history grows per
// batch, not per delivery, continuing as new.
import assert from 'node:assert/strict';
import type protos from '@temporalio/proto';
import { enqueueDeliveries } from '../activities/webhooks/enqueue.ts';
import {
  attemptsOf,
  deliveriesOf,
  makeEndpoint,
  setWebhookPolicy,
  syntheticEvent,
  verifyWith,
} from '../activities/webhooks/test-support.ts';
import { wakeEndpoint } from '../activities/webhooks/wake.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { addComment } from '../domain/tickets/comments.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { loadServiceConfig } from '../packages/integrations/index.ts';
import { webhookSettings } from '../packages/integrations/webhooks/settings.ts';
import { behaviours, type Receiver, startReceiver } from '../test/receivers/webhook-receiver.ts';
import { testDatabase, truncateAll } from '../test/support/database.ts';
import {
  eventually,
  startPipeline,
  type TestPipeline,
  testTemporal,
  uniqueTaskQueue,
} from '../test/support/temporal.ts';
import { webhookEndpointWorkflowId, webhooksTaskQueueFor } from './webhook-endpoint-contract.ts';

describe('webhook endpoint workflow', function () {
  this.timeout(90_000);
  const taskQueue = uniqueTaskQueue('webhook-endpoint');
  let pipeline: TestPipeline;
  let receiver: Receiver;

  before(async () => {
    await truncateAll(); // the relay would otherwise first deliver every earlier test file's events
    pipeline = await startPipeline(taskQueue);
    receiver = await startReceiver();
  });
  after(async () => {
    await pipeline?.stop();
    await receiver?.close();
  });

  it('delivers a ticket event, signed, once to every enabled endpoint subscribed to its type, and to no other', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    const other = await makeOrganization();
    const url = (path: string) => receiver.url(path);
    const created = await makeEndpoint(org.organizationId, { url: url('/created'), eventTypes: ['ticket.created'] });
    const both = await makeEndpoint(org.organizationId, {
      url: url('/both'),
      eventTypes: ['ticket.created', 'comment.created'],
    });
    await makeEndpoint(org.organizationId, { url: url('/comments-only'), eventTypes: ['comment.created'] });
    await makeEndpoint(org.organizationId, { url: url('/disabled'), eventTypes: ['ticket.created'], enabled: false });
    await makeEndpoint(other.organizationId, { url: url('/other-org'), eventTypes: ['ticket.created'] });

    const ticket = await createTicket(db, org.scope, { subject: 'Printer on fire' });
    await addComment(db, org.scope, ticket.id, { body: 'On it' });

    await eventually(() => receiver.waitForCount(4, 100), { timeoutMs: 30_000 });
    // Anything stray (a duplicate, a wrong endpoint) would arrive within this pause.
    await new Promise((r) => setTimeout(r, 1500));
    const byPath = (path: string) => receiver.requestsTo(path).map((r) => (verifyWithAny(r) as { type: string }).type);
    function verifyWithAny(request: (typeof receiver.requests)[number]) {
      const secret = request.path === '/created' ? created.secret : both.secret;
      return verifyWith(secret, request);
    }
    assert.deepEqual(byPath('/created'), ['ticket.created']);
    assert.deepEqual(byPath('/both').sort(), ['comment.created', 'ticket.created']);
    assert.equal(receiver.requestsTo('/disabled').length, 0);
    assert.equal(receiver.requestsTo('/other-org').length, 0);
    assert.equal(receiver.requestsTo('/comments-only').length, 1, 'the comments-only endpoint got the comment alone');
    assert.equal(receiver.count(), 4);

    const body = verifyWith(created.secret, receiver.requestsTo('/created')[0]!) as {
      type: string;
      timestamp: string;
      data: { ticket: { id: string; subject: string } };
    };
    assert.equal(body.data.ticket.id, ticket.id);
    assert.equal(body.data.ticket.subject, 'Printer on fire');
    // The same message (webhook-id) goes to every endpoint of the event.
    const createdId = receiver.requestsTo('/created')[0]!.headers['webhook-id'];
    const bothCreated = receiver
      .requestsTo('/both')
      .find((r) => (JSON.parse(r.body) as { type: string }).type === 'ticket.created');
    assert.equal(bothCreated!.headers['webhook-id'], createdId);
  });

  it('sends 300 messages to one endpoint in a bounded history of batches, continuing as new', async () => {
    const { db } = testDatabase();
    const temporal = await testTemporal();
    const org = await makeOrganization();
    await setWebhookPolicy(org.organizationId, { retryScheduleMs: [0, 100] });
    receiver.route('/bulk', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/bulk') });
    const webhooksQueue = webhooksTaskQueueFor(taskQueue);
    const limit = webhookSettings.of(loadServiceConfig()).payloadLimitBytes;
    // Started first with small batches and runs, so 300 messages need several runs.
    await wakeEndpoint(temporal.client, endpoint.id, org.organizationId, {
      taskQueue: webhooksQueue,
      workflow: { maxBatch: 50, batchesPerRun: 3 },
    });
    const handle = temporal.client.workflow.getHandle(webhookEndpointWorkflowId(endpoint.id));
    const firstRunId = (await handle.describe()).runId;

    for (let i = 0; i < 300; i++) await enqueueDeliveries(db, syntheticEvent(org.organizationId), limit);
    await wakeEndpoint(temporal.client, endpoint.id, org.organizationId, { taskQueue: webhooksQueue });
    await eventually(
      async () => {
        const deliveries = await deliveriesOf(endpoint.id);
        assert.equal(deliveries.filter((d) => d.status === 'succeeded').length, 300);
      },
      { timeoutMs: 60_000 },
    );
    assert.equal(new Set(receiver.requestsTo('/bulk').map((r) => r.headers['webhook-id'])).size, 300);

    let runs = 0;
    let events = 0;
    let activities = 0;
    for (let runId: string | undefined = firstRunId; runId; ) {
      const history = await temporal.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      runs += 1;
      events += history.events?.length ?? 0;
      activities += (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes).length;
      const last = history.events?.at(-1) as protos.temporal.api.history.v1.IHistoryEvent | undefined;
      runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    assert.ok(runs >= 2, `continued as new (${runs} runs)`);
    assert.ok(activities >= 6 && activities <= 20, `${activities} batch activities for 300 deliveries`);
    assert.ok(events < 200, `${events} history events for 300 deliveries`);
    const [first] = await deliveriesOf(endpoint.id);
    assert.equal((await attemptsOf(first!.id)).length, 1);
  });
});
