import assert from 'node:assert/strict';
import { applyMergePatch } from './merge-patch.ts';

describe('JSON Merge Patch (RFC 7396)', () => {
  it('removes a member set to null and keeps the members the patch does not name', () => {
    assert.deepEqual(applyMergePatch({ a: 1, b: 2, c: 3 }, { b: null, c: 4 }), { a: 1, c: 4 });
  });

  it('merges nested objects member by member', () => {
    const target = { statusToLinear: { open: 's1', solved: 's2' }, syncPriority: true };
    const patch = { statusToLinear: { open: 's9', solved: null, closed: 's3' } };
    assert.deepEqual(applyMergePatch(target, patch), {
      statusToLinear: { open: 's9', closed: 's3' },
      syncPriority: true,
    });
  });

  it('replaces arrays whole rather than merging them', () => {
    assert.deepEqual(applyMergePatch({ labelIds: ['a', 'b'] }, { labelIds: ['c'] }), { labelIds: ['c'] });
  });

  it('replaces a non-object member with an object patch, dropping nulls inside it', () => {
    assert.deepEqual(applyMergePatch({ a: 'x' }, { a: { b: 1, c: null } }), { a: { b: 1 } });
  });

  it('leaves its arguments untouched', () => {
    const target = { a: { b: 1 } };
    const patch = { a: { b: null } };
    applyMergePatch(target, patch);
    assert.deepEqual(target, { a: { b: 1 } });
    assert.deepEqual(patch, { a: { b: null } });
  });

  it('passes the examples of RFC 7396, appendix A', () => {
    const cases: [unknown, unknown, unknown][] = [
      [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
      [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
      [{ a: 'b' }, { a: null }, {}],
      [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
      [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
      [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
      [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
      [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
      [
        ['a', 'b'],
        ['c', 'd'],
        ['c', 'd'],
      ],
      [{ a: 'b' }, ['c'], ['c']],
      [{ a: 'foo' }, null, null],
      [{ a: 'foo' }, 'bar', 'bar'],
      [{ e: null }, { a: 1 }, { e: null, a: 1 }],
      [[1, 2], { a: 'b', c: null }, { a: 'b' }],
      [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
    ];
    for (const [target, patch, expected] of cases) assert.deepEqual(applyMergePatch(target, patch), expected);
  });
});
