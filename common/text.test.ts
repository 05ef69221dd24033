import assert from 'node:assert/strict';
import { truncateText } from './text.ts';

describe('truncateText', () => {
  it('keeps text that fits, and cuts longer text to the length', () => {
    assert.equal(truncateText('abc', 5), 'abc');
    assert.equal(truncateText('abcdef', 4), 'abcd');
  });

  it('never ends in half an emoji: a cut between its two halves drops the whole emoji', () => {
    // 'a' then 😀 (two code units): a cut at 2 would keep only the emoji's first half.
    assert.equal(truncateText('a😀b', 2), 'a');
    assert.equal(truncateText('a😀b', 3), 'a😀');
    assert.equal(truncateText('😀😀', 3), '😀');
  });
});
