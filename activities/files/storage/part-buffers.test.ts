import assert from 'node:assert/strict';
import { PartBuffers } from './part-buffers.ts';

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('S3 part buffers (one pool per process)', () => {
  it('creates buffers up to its limit, then makes the next taker wait until one is given back', async () => {
    const pool = new PartBuffers(1024, 2);
    const a = await pool.take();
    const b = await pool.take();
    assert.equal(a.length, 1024);
    assert.notEqual(a, b);
    assert.equal(pool.created, 2);
    const third = pool.take();
    assert.equal(await settled(third), false, 'a third buffer was handed out past the limit');
    pool.give(a);
    assert.equal(await third, a, 'the buffer given back is the one handed on');
    assert.equal(pool.created, 2);
    assert.equal(pool.inUse, 2);
  });

  it('reuses buffers given back instead of allocating new ones', async () => {
    const pool = new PartBuffers(1024, 4);
    const a = await pool.take();
    pool.give(a);
    assert.equal(await pool.take(), a);
    assert.equal(pool.created, 1);
  });

  it('serves waiters first come, first served', async () => {
    const pool = new PartBuffers(16, 1);
    const only = await pool.take();
    const order: string[] = [];
    const first = pool.take().then((buffer) => {
      order.push('first');
      return buffer;
    });
    const second = pool.take().then((buffer) => {
      order.push('second');
      return buffer;
    });
    pool.give(only);
    pool.give(await first);
    await second;
    assert.deepEqual(order, ['first', 'second']);
  });

  it('stops waiting when the signal aborts, and the buffer goes to the next waiter instead', async () => {
    const pool = new PartBuffers(16, 1);
    const only = await pool.take();
    const controller = new AbortController();
    const abandoned = pool.take(controller.signal);
    const next = pool.take();
    controller.abort(new Error('the body failed'));
    await assert.rejects(abandoned, /the body failed/);
    pool.give(only);
    assert.equal(await next, only);
    await assert.rejects(pool.take(controller.signal), /the body failed/, 'an aborted signal is refused at once');
  });

  it('refuses a buffer of another size, and a pool without buffers', () => {
    const pool = new PartBuffers(16, 1);
    assert.throws(() => pool.give(Buffer.alloc(8)), RangeError);
    assert.throws(() => new PartBuffers(16, 0), RangeError);
  });
});
