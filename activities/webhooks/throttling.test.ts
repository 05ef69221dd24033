// Throttling: each endpoint is served by its own workflow within its own rate limit and concurrency cap, so a
// slow receiver slows only itself. Measured at real receivers.
import assert from 'node:assert/strict';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { behaviours, type Receiver, startReceiver } from '../../test/receivers/webhook-receiver.ts';
import { testDatabase } from '../../test/support/database.ts';
import { eventually, type RunningWorker, testTemporal, uniqueTaskQueue } from '../../test/support/temporal.ts';
import { webhooksTaskQueueFor } from '../../workflows/webhook-endpoint-contract.ts';
import { createSafePoster } from '../http/safe-post.ts';
import { deliverDueBatch } from './deliver-batch.ts';
import { enqueueDeliveries } from './enqueue.ts';
import { attemptsOf, batchDeps, deliveriesOf, endpointRow, makeEndpoint, syntheticEvent } from './test-support.ts';
import { wakeEndpoint } from './wake.ts';

describe('webhook throttling', function () {
  this.timeout(60_000);
  const ticketsQueue = uniqueTaskQueue('webhook-throttling');
  let worker: RunningWorker;
  let receiver: Receiver;

  before(async () => {
    const temporal = await testTemporal();
    worker = await temporal.startWebhooksWorker({ db: testDatabase().db, ticketsTaskQueue: ticketsQueue });
    receiver = await startReceiver();
  });
  after(async () => {
    await worker?.stop();
    await receiver?.close();
  });

  async function publish(organizationId: string, count: number) {
    const temporal = await testTemporal();
    const woken = new Set<string>();
    for (let i = 0; i < count; i++) {
      const result = await enqueueDeliveries(
        testDatabase().db,
        syntheticEvent(organizationId),
        webhookSettings.of(loadServiceConfig()).payloadLimitBytes,
      );
      for (const id of result.endpointIds) woken.add(id);
    }
    for (const id of woken) {
      await wakeEndpoint(temporal.client, id, organizationId, { taskQueue: webhooksTaskQueueFor(ticketsQueue) });
    }
  }

  const succeeded = async (endpointId: string) =>
    (await deliveriesOf(endpointId)).filter((d) => d.status === 'succeeded').length;

  // Concurrency is read from the receiver (`peakOpen`: requests open there at once), not estimated from arrival
  // times and the answer's delay: that estimate counted 9 at a cap of 8 on a loaded machine, where an answer's timer
  // (on the event loop's cached clock) fired a little before its delay had passed by the arrivals' clock.

  it("does not delay a fast endpoint's deliveries while a slow one hangs", async () => {
    const org = await makeOrganization();
    receiver.route('/slow', behaviours.slow(3_000));
    receiver.route('/fast', behaviours.ok());
    const slow = await makeEndpoint(org.organizationId, { url: receiver.url('/slow'), maxConcurrency: 5 });
    const fast = await makeEndpoint(org.organizationId, { url: receiver.url('/fast') });
    await publish(org.organizationId, 10);

    await eventually(async () => assert.equal(await succeeded(fast.id), 10), { timeoutMs: 2_500 });
    // Done while every request to the slow endpoint is still waiting for its answer.
    assert.equal(receiver.requestsTo('/slow').length, 5, 'the slow endpoint has its 5 concurrent requests open');
    const slowAttempts = (await Promise.all((await deliveriesOf(slow.id)).map((d) => attemptsOf(d.id)))).flat();
    assert.deepEqual(
      slowAttempts.map((a) => a.outcome),
      ['sending', 'sending', 'sending', 'sending', 'sending'],
      'the 5 requests on the wire are recorded as sending; none has its answer yet',
    );
    await eventually(async () => assert.equal(await succeeded(slow.id), 10), { timeoutMs: 30_000 });
  });

  // 3 runs in one lane; 9 in two lanes of 5 and 4, whose requests overlap the other lane's round trip.
  for (const cap of [3, 9]) {
    it(`keeps to the concurrency cap of an endpoint (${cap})`, async () => {
      const org = await makeOrganization();
      receiver.route(`/capped-${cap}`, behaviours.slow(200));
      const endpoint = await makeEndpoint(org.organizationId, {
        url: receiver.url(`/capped-${cap}`),
        maxConcurrency: cap,
        rateLimitPerSecond: 1000,
      });
      const count = cap * 8;
      await publish(org.organizationId, count);
      await eventually(async () => assert.equal(await succeeded(endpoint.id), count), { timeoutMs: 20_000 });
      const arrivals = receiver.requestsTo(`/capped-${cap}`).map((r) => r.receivedAt);
      assert.equal(arrivals.length, count);
      const peak = receiver.peakOpen(`/capped-${cap}`);
      assert.ok(peak <= cap, `at most ${cap} requests at once, saw ${peak}`);
      assert.ok(peak >= cap - 1, `the cap is used, saw ${peak}`);
    });
  }

  it('claims several windows of requests per statement once answers come fast, still at most the cap in flight', async () => {
    // 160 due at a cap of 8 (two lanes of 4), answers in 20 ms: after the first claims (one window each, until an
    // answer shows the receiver is fast) each statement claims four windows, which go out as requests end.
    const org = await makeOrganization();
    receiver.route('/windows', behaviours.slow(20));
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/windows'),
      maxConcurrency: 8,
      rateLimitPerSecond: 1000,
    });
    await publish(org.organizationId, 160);
    await eventually(async () => assert.equal(await succeeded(endpoint.id), 160), { timeoutMs: 20_000 });
    const peak = receiver.peakOpen('/windows');
    assert.ok(peak <= 8, `at most 8 requests at once, saw ${peak}`);
    // Attempts opened by one claim share its transaction's time.
    const claims = await testDatabase().pool.query<{ size: number }>(
      `select count(*)::int as size from webhook_attempts where endpoint_id = $1 group by created_at`,
      [endpoint.id],
    );
    const sizes = claims.rows.map((r) => r.size);
    assert.ok(Math.max(...sizes) > 4, `claims of several windows of 4, saw sizes ${sizes.join(', ')}`);
    assert.ok(sizes.length <= 14, `160 deliveries in few claims (40 at one window each), saw ${sizes.length}`);
  });

  it('stops both lanes as soon as one request is throttled: nothing more starts before the Retry-After', async () => {
    // Cap 8 (two lanes of 4), answers in 40 ms (fast: claims hold four windows); request 30 answers 429, Retry-After
    // 2 s. Both lanes then have windows waiting, which used to go out one answer time after another.
    const org = await makeOrganization();
    let answered = 0;
    receiver.route('/lanes-429', () =>
      ++answered === 30 ? { status: 429, headers: { 'retry-after': '2' }, delayMs: 40 } : { status: 200, delayMs: 40 },
    );
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/lanes-429'),
      maxConcurrency: 8,
      rateLimitPerSecond: 1000,
    });
    await publish(org.organizationId, 120);
    await eventually(async () => assert.equal(await succeeded(endpoint.id), 120), { timeoutMs: 20_000 });
    const arrivals = receiver
      .requestsTo('/lanes-429')
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    const throttledAt = arrivals[29]!;
    // Requests sent before the 429's answer reached the sender arrive within its 40 ms (plus the sender's own delay);
    // none may start after it.
    const startedDuringPause = arrivals.filter((t) => t > throttledAt + 80 && t < throttledAt + 1_900);
    assert.deepEqual(startedDuringPause, [], 'no request while the receiver asked for a pause');
  });

  it('stops both lanes at the first 410: only the requests already on the wire fail, the rest wait for re-enabling', async () => {
    const org = await makeOrganization();
    let answered = 0;
    receiver.route('/lanes-410', () => (++answered <= 24 ? { status: 200, delayMs: 5 } : { status: 410, delayMs: 5 }));
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/lanes-410'),
      maxConcurrency: 8,
      rateLimitPerSecond: 1000,
    });
    await publish(org.organizationId, 200);
    await eventually(async () => assert.equal((await endpointRow(endpoint.id))?.isActive, false), {
      timeoutMs: 20_000,
    });
    await eventually(async () => {
      const deliveries = await deliveriesOf(endpoint.id);
      const count = (status: string) => deliveries.filter((d) => d.status === status).length;
      assert.equal(count('succeeded'), 24);
      assert.ok(count('failed') <= 8, `at most the 8 requests on the wire fail, saw ${count('failed')}`);
      assert.equal(count('pending'), 200 - 24 - count('failed'), 'every other delivery waits, unsent');
    });
  });

  it('sizes a small backlog’s concurrency to the backlog, not to a large cap: fewer connections, each reused', async () => {
    // 48 due at a cap of 64: 16 at once (48 / 8 sends per connection, and never below 16), not 48 connections
    // carrying one request each.
    const org = await makeOrganization();
    // Answers quick enough that the sizing holds (under SLOW_ANSWER_MS), slow enough to see what is in flight.
    receiver.route('/backlog', behaviours.slow(30));
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/backlog'),
      maxConcurrency: 64,
      rateLimitPerSecond: 1000,
    });
    await publish(org.organizationId, 48);
    await eventually(async () => assert.equal(await succeeded(endpoint.id), 48), { timeoutMs: 20_000 });
    const arrivals = receiver.requestsTo('/backlog').map((r) => r.receivedAt);
    assert.equal(arrivals.length, 48);
    // The first claims, made before any answer, are sized to the backlog: one window of 8 per lane, not 32.
    // (Attempts opened by one claim share its transaction's time.)
    const { pool } = testDatabase();
    const claims = await pool.query<{ size: number }>(
      `select count(*)::int as size from webhook_attempts where endpoint_id = $1
       group by created_at order by min(id) limit 2`,
      [endpoint.id],
    );
    assert.deepEqual(
      claims.rows.map((r) => r.size),
      [8, 8],
    );
    const peak = receiver.peakOpen('/backlog');
    assert.ok(peak >= 15, `about 16 requests at once, saw ${peak}`);
    // Then 16 at once, unless an answer took longer than the sizing allows (100 ms, as the sender timed it): on a
    // loaded machine a 30 ms answer sometimes does, and a slow answer rightly gives the batch its whole concurrency.
    const slow = await pool.query<{ n: number }>(
      'select count(*)::int as n from webhook_attempts where endpoint_id = $1 and duration_ms > 100',
      [endpoint.id],
    );
    if (slow.rows[0]!.n === 0) assert.ok(peak <= 16, `16 requests at once, saw ${peak}`);
  });

  it('gives a slow receiver its whole concurrency once its first answers show it is slow', async () => {
    // 64 due at a cap of 64, each answer taking 400 ms: sized, that would be four answer times (16 at once); the first
    // round's slow answers end the sizing, so the other 48 go out together.
    const org = await makeOrganization();
    receiver.route('/slow-backlog', behaviours.slow(400));
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/slow-backlog'),
      maxConcurrency: 64,
      rateLimitPerSecond: 1000,
    });
    await publish(org.organizationId, 64);
    await eventually(async () => assert.equal(await succeeded(endpoint.id), 64), { timeoutMs: 20_000 });
    const arrivals = receiver
      .requestsTo('/slow-backlog')
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    assert.equal(arrivals.length, 64);
    assert.ok(receiver.peakOpen('/slow-backlog') > 16, 'more than the sized 16 at once after the first answers');
    assert.ok(
      arrivals.at(-1)! - arrivals[0]! < 1_200,
      `sent within about two answer times, took ${arrivals.at(-1)! - arrivals[0]!} ms`,
    );
  });

  it('keeps the sizing when answers are slow because the worker has a crowd of requests out, not the receiver', async () => {
    // The same 64 due at 400 ms each, sent while the worker has 1,000 other requests on the wire: a slow answer is
    // then no evidence about the receiver (CROWDED_SENDS), and the sizing holds at 16 at once.
    const org = await makeOrganization();
    receiver.route('/crowded', behaviours.slow(400));
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/crowded'),
      maxConcurrency: 64,
      rateLimitPerSecond: 1000,
    });
    const { payloadLimitBytes, allowCidrs } = webhookSettings.of(loadServiceConfig());
    for (let i = 0; i < 64; i++)
      await enqueueDeliveries(testDatabase().db, syntheticEvent(org.organizationId), payloadLimitBytes);
    const poster = createSafePoster({ allowHttp: true, allowCidrs, timeoutMs: 5_000 });
    const sending = { count: 1_000 };
    let succeeded = 0;
    try {
      // As the endpoint's workflow does: batch after batch while one says more is due.
      for (let more = true; more; ) {
        const result = await deliverDueBatch(batchDeps(poster, { timeoutMs: 5_000, leaseMarginMs: 1_000, sending }), {
          endpointId: endpoint.id,
          organizationId: org.organizationId,
          maxBatch: 64,
        });
        succeeded += result.succeeded;
        more = result.more;
      }
      assert.equal(succeeded, 64);
    } finally {
      poster.close();
    }
    assert.equal(receiver.requestsTo('/crowded').length, 64);
    const peak = receiver.peakOpen('/crowded');
    assert.ok(peak >= 15 && peak <= 16, `16 requests at once, as sized, saw ${peak}`);
    // Slow answers, crowd or not, keep claims to one window (8 a lane): several windows claimed at once would wait
    // behind slow ones, maybe past their lease. (Attempts opened by one claim share its transaction's time.)
    const claims = await testDatabase().pool.query<{ size: number }>(
      'select count(*)::int as size from webhook_attempts where endpoint_id = $1 group by created_at',
      [endpoint.id],
    );
    assert.ok(
      claims.rows.every((r) => r.size <= 8),
      `claims of ${claims.rows.map((r) => r.size).join(', ')}`,
    );
    assert.equal(sending.count, 1_000, 'each request counted itself out again');
  });

  it('keeps to the rate limit of an endpoint', async () => {
    const org = await makeOrganization();
    receiver.route('/paced', behaviours.ok());
    const endpoint = await makeEndpoint(org.organizationId, {
      url: receiver.url('/paced'),
      maxConcurrency: 10,
      rateLimitPerSecond: 10,
    });
    await publish(org.organizationId, 25);
    await eventually(async () => assert.equal(await succeeded(endpoint.id), 25), { timeoutMs: 20_000 });
    const arrivals = receiver
      .requestsTo('/paced')
      .map((r) => r.receivedAt)
      .sort((a, b) => a - b);
    const busiestSecond = Math.max(...arrivals.map((t) => arrivals.filter((u) => u >= t && u < t + 1000).length));
    assert.ok(busiestSecond <= 11, `at most 10 per second (+1 for timer jitter), saw ${busiestSecond}`);
    assert.ok(arrivals.at(-1)! - arrivals[0]! >= 2_200, 'the 25 requests were spread over at least 2.4 s');
    const [first] = await deliveriesOf(endpoint.id);
    assert.equal((await attemptsOf(first!.id)).length, 1);
  });

  it('pauses the whole endpoint when a receiver answers 429 with Retry-After, not only the throttled message', async () => {
    const org = await makeOrganization();
    let answered = 0;
    receiver.route('/busy', () =>
      ++answered === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
    );
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/busy'), maxConcurrency: 1 });
    await publish(org.organizationId, 5);
    await eventually(async () => assert.equal(await succeeded(endpoint.id), 5), { timeoutMs: 20_000 });
    const arrivals = receiver.requestsTo('/busy').map((r) => r.receivedAt);
    assert.equal(arrivals.length, 6, 'five messages, one of them twice');
    assert.ok(arrivals[1]! - arrivals[0]! >= 1_900, `next request ${arrivals[1]! - arrivals[0]!} ms after the 429`);
  });
});
