// The core benchmark's operation count, checked on real histories recorded from the product's workflows
// (test/histories): what each event type counts as, local activities apart from activity tasks, and only the events
// inside the window.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import protos from '@temporalio/proto';
import { countOps, emptyCounts, eventTimeMs } from './temporal-ops.ts';

function recorded(name: string) {
  const path = new URL(`../../test/histories/${name}.json`, import.meta.url);
  // protobufjs' own object form, as test/replay.test.ts reads them (the SDK's JSON helper trips over a second copy).
  return protos.temporal.api.history.v1.History.fromObject(JSON.parse(readFileSync(path, 'utf8'))).events ?? [];
}
const always = { fromMs: 0, toMs: Number.MAX_SAFE_INTEGER };

describe('Temporal operations counted from a history (bench/lib/temporal-ops.ts)', () => {
  it('counts a linear link run: its start, signals, workflow tasks, activity tasks and local activities apart', () => {
    const counts = emptyCounts();
    const signals: string[] = [];
    assert.equal(
      countOps(recorded('linear-sync'), always, counts, (name) => signals.push(name)),
      true,
    );
    assert.deepEqual(counts, {
      ...emptyCounts(),
      starts: 1,
      signals: 8,
      workflowTasks: 15,
      activityTasks: 7,
      localActivities: 4,
      timers: 6,
    });
    assert.equal(signals.length, 8);
    assert.ok(signals.every((name) => name.length > 0 && name !== '?'));
  });

  it('counts only the events stamped inside the window, both ends included', () => {
    const events = recorded('sla-watch');
    // Event 28 starts the first timer, event 29 is it firing, 1.5 s later.
    const timerStarted = eventTimeMs(events[27]!);
    const timerFired = eventTimeMs(events[28]!);
    const before = emptyCounts();
    countOps(events, { fromMs: eventTimeMs(events[0]!), toMs: timerStarted }, before);
    assert.deepEqual(before, {
      ...emptyCounts(),
      starts: 1,
      signals: 2,
      workflowTasks: 5,
      activityTasks: 3,
      timers: 1,
    });
    const after = emptyCounts();
    countOps(events, { fromMs: timerFired, toMs: Number.MAX_SAFE_INTEGER }, after);
    assert.deepEqual(after, { ...emptyCounts(), workflowTasks: 6, activityTasks: 4, timers: 1 });
    assert.equal(countOps(events, { fromMs: timerStarted + 1, toMs: timerFired - 1 }, emptyCounts()), false);
  });
});
