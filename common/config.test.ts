import assert from 'node:assert/strict';
import { parseKeyRing } from './config.ts';

describe('parseKeyRing', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('makes the last key active unless an active key id is named', () => {
    assert.equal(parseKeyRing(`a:${key},b:${key}`, undefined, 'X').activeKeyId, 'b');
    assert.equal(parseKeyRing(`a:${key},b:${key}`, 'a', 'X').activeKeyId, 'a');
  });

  it('refuses keys that are not 32 bytes, naming the key id', () => {
    assert.throws(() => parseKeyRing('a:AAAA', undefined, 'X'), /key a must be 32 bytes/);
  });

  it('refuses an active key id that is not in the ring', () => {
    assert.throws(() => parseKeyRing(`a:${key}`, 'zz', 'X'), /active key id zz/);
  });
});
