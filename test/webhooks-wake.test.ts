// The relay wakes a cold endpoint once per burst (activities/webhooks/enqueue.ts, `wake_sent_at`): every batch must
// answer that wake, including batches that do not listen, or the deliveries fanned out after it would wait for an
// event that may never come.
import assert from 'node:assert/strict';
import { webhookEndpointListeners } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { makeEndpoint } from '../activities/webhooks/test-support.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { updateTicket } from '../domain/tickets/update-ticket.ts';
import { type Receiver, startReceiver } from './receivers/webhook-receiver.ts';
import { testDatabase } from './support/database.ts';
import { eventually, startPipeline, type TestPipeline, uniqueTaskQueue } from './support/temporal.ts';

describe('webhook wakes, batches that do not listen', function () {
  this.timeout(120_000);
  const { db } = testDatabase();
  let pipeline: TestPipeline | undefined;
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await pipeline?.stop();
    await receiver?.close();
  });

  it('delivers an event that comes after a batch without listening has answered the wake and ended', async () => {
    pipeline = await startPipeline(uniqueTaskQueue('wake-no-listen'), {}, { listen: false });
    const org = await makeOrganization();
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/no-listen'),
      eventTypes: ['ticket.updated'],
    });
    const ticket = await createTicket(db, org.scope, { subject: 'no listening' });
    const first = await updateTicket(db, org.scope, ticket.id, { version: ticket.version, priority: 'high' });
    await eventually(async () => assert.equal(receiver.requestsTo('/no-listen').length, 1));
    const [row] = await db
      .select()
      .from(webhookEndpointListeners)
      .where(eq(webhookEndpointListeners.endpointId, endpoint.id));
    assert.ok(row?.wakeSentAt && row.takenAt && row.takenAt > row.wakeSentAt, 'the batch answered the wake');
    assert.equal(row.owner, null, 'and took no listening ownership');

    // Within the 30 s a wake is trusted: only an answered wake lets this event wake the endpoint again.
    const sends = pipeline.relay.metrics().sends;
    await updateTicket(db, org.scope, ticket.id, { version: first.version, priority: 'low' });
    await eventually(async () => assert.equal(receiver.requestsTo('/no-listen').length, 2), { timeoutMs: 20_000 });
    assert.ok(pipeline.relay.metrics().sends > sends, 'the second event woke the endpoint');
  });
});
