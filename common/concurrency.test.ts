// The limiter that bounds work inside one process: at most its limit at once, in order, and a waiter that gives up
// (its signal aborts) leaves its place without taking or losing a slot.
import assert from 'node:assert/strict';
import { Limiter } from './concurrency.ts';

const gate = () => {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

describe('Limiter', () => {
  it('runs at most its limit at once; the next waiter takes the slot of one that ends', async () => {
    const limiter = new Limiter(1);
    const first = gate();
    const started: string[] = [];
    const a = limiter.run(async () => {
      started.push('a');
      await first.opened;
    });
    const b = limiter.run(async () => {
      started.push('b');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, ['a']);
    first.open();
    await Promise.all([a, b]);
    assert.deepEqual(started, ['a', 'b']);
  });

  it('lets a waiter give up without running, and gives the slot to the one after it', async () => {
    const limiter = new Limiter(1);
    const first = gate();
    const started: string[] = [];
    const a = limiter.run(async () => {
      started.push('a');
      await first.opened;
    });
    const giveUp = new AbortController();
    const b = limiter.run(async () => {
      started.push('b');
    }, giveUp.signal);
    const c = limiter.run(async () => {
      started.push('c');
    });
    giveUp.abort(new Error('no time left'));
    await assert.rejects(b, /no time left/);
    first.open();
    await Promise.all([a, c]);
    assert.deepEqual(started, ['a', 'c']);
    // The slot was neither lost nor doubled: one more runs at once, two wait in turn.
    const order: string[] = [];
    const second = gate();
    const d = limiter.run(async () => {
      order.push('d');
      await second.opened;
    });
    const e = limiter.run(async () => {
      order.push('e');
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, ['d']);
    second.open();
    await Promise.all([d, e]);
  });

  it('refuses at once with a signal already aborted', async () => {
    const limiter = new Limiter(1);
    const aborted = AbortSignal.abort(new Error('cancelled'));
    let ran = false;
    await assert.rejects(
      limiter.run(async () => {
        ran = true;
      }, aborted),
      /cancelled/,
    );
    assert.equal(ran, false);
  });
});
