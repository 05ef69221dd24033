// The limiter that bounds work inside one process: at most its limit at once, in order, and a waiter that gives up
// (its signal aborts) leaves its place without taking or losing a slot.
import assert from 'node:assert/strict';
import { Limiter } from './concurrency.ts';

/** Work named `name` that records its start in `log` and holds its slot until `release()`. */
function held(limiter: Limiter, log: string[], name: string, signal?: AbortSignal) {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const done = limiter.run(async () => {
    log.push(name);
    await released;
  }, signal);
  return { done, release };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('Limiter', () => {
  it('runs at most its limit at once; the next waiter takes the slot of one that ends', async () => {
    const limiter = new Limiter(1);
    const log: string[] = [];
    const a = held(limiter, log, 'a');
    const b = held(limiter, log, 'b');
    await settle();
    assert.deepEqual(log, ['a']);
    a.release();
    b.release();
    await Promise.all([a.done, b.done]);
    assert.deepEqual(log, ['a', 'b']);
  });

  it('lets a waiter give up without running, and gives the slot to the one after it, neither lost nor doubled', async () => {
    const limiter = new Limiter(1);
    const log: string[] = [];
    const giveUp = new AbortController();
    const a = held(limiter, log, 'a');
    const b = held(limiter, log, 'b', giveUp.signal);
    const c = held(limiter, log, 'c');
    const d = held(limiter, log, 'd');
    giveUp.abort(new Error('no time left'));
    await assert.rejects(b.done, /no time left/);
    a.release();
    await a.done;
    await settle();
    assert.deepEqual(log, ['a', 'c'], 'c took the slot; d still waits: one at a time');
    c.release();
    d.release();
    await Promise.all([c.done, d.done]);
    assert.deepEqual(log, ['a', 'c', 'd']);
  });

  it('refuses at once with a signal already aborted', async () => {
    const log: string[] = [];
    const refused = held(new Limiter(1), log, 'a', AbortSignal.abort(new Error('cancelled')));
    await assert.rejects(refused.done, /cancelled/);
    assert.deepEqual(log, []);
  });
});
