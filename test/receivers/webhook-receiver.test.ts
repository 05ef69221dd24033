import assert from 'node:assert/strict';
import { behaviours, startReceiver } from './webhook-receiver.ts';

const post = (url: string, messageId: string) =>
  fetch(url, { method: 'POST', headers: { 'webhook-id': messageId }, body: '{"n":1}', redirect: 'manual' });

describe('test webhook receiver', () => {
  it('records method, path, headers and body of what it receives', async () => {
    const receiver = await startReceiver();
    try {
      await post(receiver.url('/a?x=1'), 'msg_1');
      const [request] = receiver.requests;
      assert.equal(request?.method, 'POST');
      assert.equal(request?.path, '/a?x=1');
      assert.equal(request?.headers['webhook-id'], 'msg_1');
      assert.equal(request?.body, '{"n":1}');
      assert.equal(receiver.count(), 1);
    } finally {
      await receiver.close();
    }
  });

  it('fails each message N times, then accepts it, counting retries per webhook-id', async () => {
    const receiver = await startReceiver({ behaviour: behaviours.failTimes(2, 503) });
    try {
      const statuses = [];
      for (const id of ['msg_a', 'msg_a', 'msg_b', 'msg_a', 'msg_b', 'msg_b'])
        statuses.push((await post(receiver.url('/f'), id)).status);
      assert.deepEqual(statuses, [503, 503, 503, 200, 503, 200]);
    } finally {
      await receiver.close();
    }
  });

  it('answers per path, and waits for a number of requests', async () => {
    const receiver = await startReceiver();
    try {
      receiver.route('/gone', behaviours.gone());
      receiver.route('/moved', behaviours.redirect('https://elsewhere.example/', 308));
      receiver.route('/busy', behaviours.tooManyRequests('3'));
      const waiting = receiver.waitForCount(4);
      assert.equal((await post(receiver.url('/gone'), 'm')).status, 410);
      const moved = await post(receiver.url('/moved'), 'm');
      assert.equal(moved.status, 308);
      assert.equal(moved.headers.get('location'), 'https://elsewhere.example/');
      const busy = await post(receiver.url('/busy'), 'm');
      assert.equal(busy.status, 429);
      assert.equal(busy.headers.get('retry-after'), '3');
      assert.equal((await post(receiver.url('/other'), 'm')).status, 200);
      await waiting;
      await assert.rejects(receiver.waitForCount(5, 50), /got 4 of 5 expected requests/);
    } finally {
      await receiver.close();
    }
  });

  it('listens on IPv6 loopback when asked', async () => {
    const receiver = await startReceiver({ host: '::1' });
    try {
      assert.match(receiver.url('/'), /^http:\/\/\[::1\]:\d+\/$/);
      assert.equal((await post(receiver.url('/'), 'm')).status, 200);
    } finally {
      await receiver.close();
    }
  });

  it('closes even while a request hangs', async () => {
    const receiver = await startReceiver({ behaviour: behaviours.hang() });
    const pending = post(receiver.url('/'), 'm').catch((e: Error) => e);
    await receiver.waitForCount(1);
    await receiver.close();
    assert.ok((await pending) instanceof Error);
  });
});
