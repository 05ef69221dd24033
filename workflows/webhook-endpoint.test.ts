// Webhooks end to end: ticket events written through the domain reach the right endpoints through the real outbox
// relay, the webhook dispatcher, the webhooks worker and HTTP. (The dispatcher's own rules and bounded history:
// webhook-dispatcher.test.ts.)
import assert from 'node:assert/strict';
import { makeEndpoint, verifyWith } from '../activities/webhooks/test-support.ts';
import { ATTEMPT_START_LAG_MS } from '../common/webhooks/attempt-window.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { addComment } from '../domain/tickets/comments.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { type Receiver, startReceiver } from '../test/receivers/webhook-receiver.ts';
import { testDatabase, truncateAll } from '../test/support/database.ts';
import { eventually, startPipeline, type TestPipeline, uniqueTaskQueue } from '../test/support/temporal.ts';
import { DEFAULT_BATCH_TIMEOUT_MS } from './webhook-endpoint.ts';

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

  it('gives a batch less time than the lag by which readers of attempts bound when a request can follow its claim', () => {
    // Health and the "failing for 5 days" check find attempts by when they were opened and judge them by when they
    // were sent (common/webhooks/attempt-window.ts); a batch (and a dispatcher group) lives at most this long.
    assert.ok(
      DEFAULT_BATCH_TIMEOUT_MS * 4 <= ATTEMPT_START_LAG_MS,
      'a quarter of the lag at most, the rest for clocks',
    );
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
});
