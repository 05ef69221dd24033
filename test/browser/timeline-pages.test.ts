// How the ticket page merges two independently paged streams (comments, events) into one timeline: shown only
// down to where both are complete, and "show earlier" extends exactly the stream that holds it back.
import assert from 'node:assert/strict';
import {
  completeSince,
  extendStream,
  holdsBack,
  type LoadedStream,
} from '../../packages/dashboard/src/timeline-pages.ts';

const at = (minute: number) => ({ createdAt: `2026-01-01T00:${String(minute).padStart(2, '0')}:00.000Z` });
const stream = (minutes: number[], more: boolean): LoadedStream<{ createdAt: string }> => ({
  items: minutes.map(at),
  nextCursor: more ? 'next' : null,
});

describe('dashboard: the timeline loaded in pages', () => {
  it('shows everything once every stream is fully loaded', () => {
    assert.equal(completeSince([stream([9, 8], false), stream([7], false)]), null);
  });

  it('holds back what is older than the oldest loaded item of a stream that has more', () => {
    const comments = stream([50, 40, 30], true);
    const events = stream([45, 20, 10], false);
    const since = completeSince([comments, events]);
    assert.equal(since, Date.parse(at(30).createdAt));
    assert.ok(holdsBack(comments, since));
    assert.ok(!holdsBack(events, since), 'a fully loaded stream has nothing to load');
  });

  it('takes the latest of the partial streams, and loads the one that sets it', () => {
    const comments = stream([50, 40], true);
    const events = stream([45, 35, 25], true);
    const since = completeSince([comments, events]);
    assert.equal(since, Date.parse(at(40).createdAt));
    assert.ok(holdsBack(comments, since));
    assert.ok(!holdsBack(events, since), 'events are loaded further back already');
  });

  it('appends the next page behind what is loaded and takes its cursor', () => {
    const extended = extendStream(stream([50, 40], true), { data: [at(30)], nextCursor: null });
    assert.deepEqual(extended, stream([50, 40, 30], false));
  });
});
