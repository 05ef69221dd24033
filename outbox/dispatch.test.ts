import assert from 'node:assert/strict';
import { chunkForSignals } from './dispatch.ts';

describe('chunkForSignals', () => {
  const event = (id: number, size = 10) => ({ id, payload: { text: 'x'.repeat(size) } });

  it("keeps a ticket's backlog in id order, split by count", () => {
    const chunks = chunkForSignals(
      [1, 2, 3, 4, 5].map((id) => event(id)),
      { maxEvents: 2 },
    );
    assert.deepEqual(
      chunks.map((c) => c.map((e) => e.id)),
      [[1, 2], [3, 4], [5]],
    );
  });

  it('splits by size, and sends an event too large for any signal alone so it fails alone', () => {
    const chunks = chunkForSignals([event(1, 100), event(2, 5_000), event(3, 100), event(4, 100)], { maxBytes: 1_000 });
    assert.deepEqual(
      chunks.map((c) => c.map((e) => e.id)),
      [[1], [2], [3, 4]],
    );
  });
});
