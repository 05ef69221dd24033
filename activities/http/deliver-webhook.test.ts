import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { classifyAttempt } from '../../common/webhooks/attempt-outcome.ts';
import { nextRetryDelay, retryPolicy } from '../../common/webhooks/retry-schedule.ts';
import { generateSecret } from '../../common/webhooks/standard-webhooks.ts';
import { behaviours, type Receiver, startReceiver } from '../../test/receivers/webhook-receiver.ts';
import { deliverWebhook } from './deliver-webhook.ts';
import { createSafePoster, type SafePoster } from './safe-post.ts';

describe('deliverWebhook: one signed attempt', () => {
  let receiver: Receiver;
  let poster: SafePoster;
  const secret = generateSecret();
  const body = JSON.stringify({ type: 'ticket.status_changed', data: { id: 't_9', from: 'open', to: 'solved' } });

  before(async () => {
    receiver = await startReceiver();
    poster = createSafePoster({ allowHttp: true, allowCidrs: ['127.0.0.0/8'] });
  });
  afterEach(() => receiver.reset());
  after(async () => {
    poster.close();
    await receiver.close();
  });

  it('retries a message under the same webhook-id with a fresh timestamp, each attempt verifiable', async () => {
    receiver.route('/flaky', behaviours.failTimes(1, 503));
    const url = receiver.url('/flaky');
    const first = await deliverWebhook(poster, {
      url,
      msgId: 'msg_same',
      body,
      secrets: [secret],
      now: Date.now() - 2000,
    });
    const second = await deliverWebhook(poster, { url, msgId: 'msg_same', body, secrets: [secret] });

    assert.equal(first.kind === 'response' && first.status, 503);
    assert.equal(classifyAttempt(first).verdict, 'retry');
    assert.equal(second.kind === 'response' && second.status, 200);
    assert.deepEqual(classifyAttempt(second), { verdict: 'delivered' });
    const [a, b] = receiver.requestsTo('/flaky');
    assert.equal(a?.headers['webhook-id'], 'msg_same');
    assert.equal(b?.headers['webhook-id'], 'msg_same');
    assert.ok(Number(a?.headers['webhook-timestamp']) < Number(b?.headers['webhook-timestamp']));
    for (const received of [a!, b!])
      new Webhook(secret).verify(received.body, received.headers as Record<string, string>);
  });

  it('sends the endpoint custom headers beside the signature', async () => {
    await deliverWebhook(poster, {
      url: receiver.url('/custom'),
      msgId: 'msg_h',
      body,
      secrets: [secret],
      headers: { Authorization: 'Bearer customer-token' },
    });
    assert.equal(receiver.requests[0]?.headers.authorization, 'Bearer customer-token');
  });

  it('records a failure without a response as an error attempt instead of throwing', async () => {
    const closed = await startReceiver();
    const url = closed.url('/');
    await closed.close();
    const attempt = await deliverWebhook(poster, { url, msgId: 'msg_x', body, secrets: [secret] });
    assert.equal(attempt.kind, 'error');
    assert.equal(attempt.kind === 'error' && attempt.code, 'connection_refused');
    assert.ok(attempt.durationMs >= 0);
    assert.deepEqual(classifyAttempt(attempt), { verdict: 'retry', reason: 'connection_refused', throttle: false });
  });

  it('records an SSRF refusal, which is given up without retrying', async () => {
    const strict = createSafePoster({ allowHttp: true });
    try {
      const attempt = await deliverWebhook(strict, { url: receiver.url('/'), msgId: 'msg_s', body, secrets: [secret] });
      assert.equal(attempt.kind === 'error' && attempt.code, 'ssrf_refused');
      assert.equal(classifyAttempt(attempt).verdict, 'give_up');
      assert.equal(receiver.count(), 0);
    } finally {
      strict.close();
    }
  });

  it('turns a 429 with Retry-After into a postponed next attempt', async () => {
    receiver.route('/throttled', behaviours.tooManyRequests('30'));
    const attempt = await deliverWebhook(poster, {
      url: receiver.url('/throttled'),
      msgId: 'msg_t',
      body,
      secrets: [secret],
    });
    const outcome = classifyAttempt(attempt);
    assert.ok(outcome.verdict === 'retry' && outcome.throttle);
    const wait = nextRetryDelay(retryPolicy({ jitter: 0 }), {
      attemptsMade: 1,
      retryAfterMs: outcome.retryAfterMs,
      random: () => 0.5,
    });
    assert.equal(wait, 30_000, 'Retry-After 30 s beats the scheduled 5 s');
  });
});
