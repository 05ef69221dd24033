// The dispatcher's rules for which endpoint gets a batch when, stated on its planner: the workflow applies exactly
// what DispatchPlan decides.
import assert from 'node:assert/strict';
import { type DispatchOutcome, DispatchPlan } from './webhook-dispatcher-plan.ts';

const a = { endpointId: 'a', organizationId: 'org-1' };
const b = { endpointId: 'b', organizationId: 'org-1' };
const c = { endpointId: 'c', organizationId: 'org-2' };
const done = (endpointId: string, more = false): DispatchOutcome => ({ endpointId, more });

describe('webhook dispatcher plan', () => {
  it('serves announced endpoints in announcement order, each once however often it was announced', () => {
    const plan = new DispatchPlan();
    plan.announce([b, a]);
    plan.announce([a, c]);
    assert.deepEqual(plan.takeGroup(2, 'g1'), [b, a]);
    assert.deepEqual(plan.takeGroup(2, 'g2'), [c]);
    assert.equal(plan.hasWaiting(), false);
    assert.equal(plan.state().running.length, 3);
    assert.equal(plan.isIdle(), false, 'their batches still run');
  });

  it('never gives an endpoint a second batch while one runs, and gives it one after if it was announced meanwhile', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b]);
    const group = plan.takeGroup(10, 'g1');
    plan.announce([a]);
    assert.equal(plan.hasWaiting(), false, 'a is in a batch: its announcement waits for that batch to end');
    plan.groupEnded('g1', group, [done('a'), done('b')], 0);
    assert.deepEqual(plan.takeGroup(10, 'g2'), [a], 'the batch that answers the announcement starts after it');
    plan.groupEnded('g2', [a], [done('a')], 0);
    assert.equal(plan.isIdle(), true);
  });

  it('releases an endpoint whose batch ended while its group still runs, and ignores the group’s later word on it', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b]);
    const group = plan.takeGroup(10, 'g1');
    plan.announce([a]);
    // a's batch ended (reported by signal) while b's still runs: a's next batch need not wait for b's.
    plan.batchesEnded('g1', [done('a')], 0);
    assert.deepEqual(plan.takeGroup(10, 'g2'), [a]);
    // Group 1 completes: what it says of a (a stale copy, or nothing) does not touch a's batch in group 2.
    plan.groupEnded('g1', group, [done('a', true), done('b')], 0);
    assert.equal(plan.hasWaiting(), false);
    assert.deepEqual(plan.state().running, ['a']);
    plan.groupEnded('g2', [a], [done('a')], 0);
    assert.equal(plan.isIdle(), true);
  });

  it('runs an endpoint again at once when its batch stopped with deliveries still due', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b]);
    const group = plan.takeGroup(10, 'g1');
    plan.groupEnded('g1', group, [done('a', true), done('b')], 0);
    assert.deepEqual(plan.takeGroup(10, 'g2'), [a]);
  });

  it('puts a whole group back when its activity failed (cancelled), and an endpoint it left without an outcome: nothing announced is dropped', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b, c]);
    const group = plan.takeGroup(2, 'g1');
    plan.groupEnded('g1', group, null, 0);
    assert.deepEqual(plan.takeGroup(10, 'g2'), [c, a, b]);
    plan.groupEnded('g2', [c, a, b], [done('c')], 0);
    assert.deepEqual(plan.takeGroup(10, 'g3'), [a, b]);
  });

  it('holds the endpoints of a failed group (its one attempt timed out) for a backoff, leaving those it already released', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b]);
    const group = plan.takeGroup(10, 'g1');
    plan.batchesEnded('g1', [done('a')], 0);
    plan.announce([a]);
    plan.takeGroup(10, 'g2');
    plan.groupEnded('g1', group, { failed: 'GroupFailed' }, 5_000);
    assert.deepEqual(plan.state().running, ['a'], 'a runs in its new group, untouched');
    assert.deepEqual(plan.state().held, [{ ...b, until: 6_000, failures: 1, error: 'GroupFailed' }]);
    // A late word from the failed group's attempt (a worker that hung) changes nothing either.
    plan.batchesEnded('g1', [done('a', true)], 5_000);
    assert.deepEqual(plan.state().running, ['a']);
    assert.equal(plan.hasWaiting(), false);
  });

  it('tries a failed batch again after a backoff that doubles per failure in a row, whatever is announced meanwhile', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b]);
    plan.groupEnded(
      'g1',
      plan.takeGroup(10, 'g1'),
      [{ ...done('a'), failed: 'DatabaseError 57014' }, done('b')],
      1_000,
    );
    plan.announce([a]);
    assert.equal(plan.hasWaiting(), false, 'a waits for its retry time');
    assert.equal(plan.isIdle(), false);
    assert.equal(plan.nextReleaseAt(), 2_000);
    assert.deepEqual(plan.state().held, [{ ...a, until: 2_000, failures: 1, error: 'DatabaseError 57014' }]);
    plan.release(1_999);
    assert.equal(plan.hasWaiting(), false);
    plan.release(2_000);
    plan.groupEnded('g2', plan.takeGroup(10, 'g2'), [{ ...done('a'), failed: 'DatabaseError 57014' }], 2_000);
    assert.equal(plan.nextReleaseAt(), 4_000, 'the second failure in a row waits twice as long');
    plan.release(4_000);
    plan.groupEnded('g3', plan.takeGroup(10, 'g3'), [done('a')], 4_000);
    assert.equal(plan.isIdle(), true, 'a success forgets the failures');
    plan.announce([a]);
    plan.groupEnded('g4', plan.takeGroup(10, 'g4'), [{ ...done('a'), failed: 'Error' }], 10_000);
    assert.equal(plan.nextReleaseAt(), 11_000, 'and the next failure starts the backoff over');
  });

  it('holds an endpoint whose receiver asked for a pause until then, and answers what was announced meanwhile after', () => {
    const plan = new DispatchPlan();
    plan.announce([a]);
    plan.groupEnded('g1', plan.takeGroup(10, 'g1'), [{ ...done('a'), pausedUntil: 3_000 }], 1_000);
    plan.announce([a]);
    assert.equal(plan.hasWaiting(), false, 'no batch during the pause, announced or not');
    assert.deepEqual(plan.state().held, [{ ...a, until: 3_000, failures: 0 }]);
    plan.release(3_000);
    assert.deepEqual(plan.takeGroup(10, 'g2'), [a]);
  });

  it('carries waiting, running and held endpoints into the next run, each hold with its time', () => {
    const plan = new DispatchPlan();
    plan.announce([a, b, c]);
    plan.groupEnded('g1', plan.takeGroup(1, 'g1'), [{ ...done('a'), pausedUntil: 5_000 }], 0);
    plan.takeGroup(1, 'g2');
    const next = new DispatchPlan(plan.carry());
    assert.deepEqual(next.takeGroup(10, 'g1'), [c, b]);
    assert.equal(next.nextReleaseAt(), 5_000);
  });
});
