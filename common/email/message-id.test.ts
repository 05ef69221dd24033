import assert from 'node:assert/strict';
import { formatMessageId, normalizeMessageId, parseMessageIds } from './message-id.ts';

describe('message ids', () => {
  it('normalises by dropping brackets and whitespace, keeping case', () => {
    assert.equal(normalizeMessageId('  <Abc.Def@Example.COM> '), 'Abc.Def@Example.COM');
    assert.equal(normalizeMessageId('abc@example.com'), 'abc@example.com');
    assert.equal(normalizeMessageId('<abc@exa\r\n mple.com>'), 'abc@example.com');
  });

  it('formats the header form', () => {
    assert.equal(formatMessageId('abc@example.com'), '<abc@example.com>');
    assert.equal(formatMessageId('<abc@example.com>'), '<abc@example.com>');
    assert.equal(formatMessageId(''), '');
  });

  it('parses every id of a header, in order, without duplicates', () => {
    assert.deepEqual(parseMessageIds('<a@x> <b@x>\r\n <c@x> <a@x>'), ['a@x', 'b@x', 'c@x']);
    assert.deepEqual(parseMessageIds(['<a@x>', '<b@x>']), ['a@x', 'b@x']);
    assert.deepEqual(parseMessageIds('<a@x> (comment) <b@x>'), ['a@x', 'b@x']);
    assert.deepEqual(parseMessageIds('a@x, b@x'), ['a@x', 'b@x']);
    assert.deepEqual(parseMessageIds('<no-at-sign> <a@x>'), ['a@x']);
    assert.deepEqual(parseMessageIds(null), []);
    assert.deepEqual(parseMessageIds(''), []);
  });
});
