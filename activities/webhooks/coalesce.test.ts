import assert from 'node:assert/strict';
import { coalesceByKey } from './coalesce.ts';

describe('coalesced endpoint wakes', () => {
  function recorder() {
    const started: Array<{ key: string; at: number; finish: (error?: Error) => void }> = [];
    let clock = 0;
    const send = (key: string) =>
      new Promise<void>((resolve, reject) => {
        started.push({ key, at: ++clock, finish: (error) => (error ? reject(error) : resolve()) });
      });
    return { started, send, now: () => ++clock };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('gives every caller a wake that starts after its call, sharing the next one while one is in flight', async () => {
    const { started, send, now } = recorder();
    const wake = coalesceByKey(send);
    const first = wake('a');
    const calledAt = now();
    const second = wake('a');
    const third = wake('a');
    assert.equal(started.length, 1, 'one in flight; the others wait for the next');
    started[0]!.finish();
    await first;
    await tick();
    assert.equal(started.length, 2);
    assert.ok(started[1]!.at > calledAt, 'the shared wake started after the later callers asked');
    started[1]!.finish();
    await Promise.all([second, third]);
    const fourth = wake('a');
    assert.equal(started.length, 3, 'nothing in flight: a new wake at once');
    started[2]!.finish();
    await fourth;
  });

  it('keeps endpoints apart and passes a failed wake on to the callers that shared it', async () => {
    const { started, send } = recorder();
    const wake = coalesceByKey(send);
    const a = wake('a');
    const b = wake('b');
    assert.deepEqual(
      started.map((s) => s.key),
      ['a', 'b'],
    );
    started[0]!.finish(new Error('Temporal unavailable'));
    started[1]!.finish();
    await assert.rejects(a, /unavailable/);
    await b;
    const again = wake('a');
    assert.equal(started.length, 3, 'a failed wake does not block the next');
    started[2]!.finish();
    await again;
  });
});
