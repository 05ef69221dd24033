import assert from 'node:assert/strict';
import { baseLocalPart, isSameMailbox, normalizeAddress, splitAddress } from './addresses.ts';

describe('email addresses', () => {
  it('normalises to the bare lowercase address', () => {
    assert.equal(normalizeAddress('  Jane.Doe@Example.COM '), 'jane.doe@example.com');
    assert.equal(normalizeAddress('<jane@example.com>'), 'jane@example.com');
    assert.equal(normalizeAddress('"Doe, Jane" <Jane@Example.com>'), 'jane@example.com');
    assert.equal(normalizeAddress('Jane <jane@example.com'), 'jane@example.com');
    assert.equal(normalizeAddress('mailto:Jane@example.com'), 'jane@example.com');
    assert.equal(normalizeAddress('jane@example.com.'), 'jane@example.com');
    assert.equal(normalizeAddress(''), '');
  });

  it('splits at the last @', () => {
    assert.deepEqual(splitAddress('Jane+Orders@Example.com'), { local: 'jane+orders', domain: 'example.com' });
    assert.deepEqual(splitAddress('"a@b"@example.com'), { local: '"a@b"', domain: 'example.com' });
    assert.deepEqual(splitAddress('not-an-address'), { local: 'not-an-address', domain: '' });
  });

  it('takes the base local part before the first +', () => {
    assert.equal(baseLocalPart('jane+orders+2024'), 'jane');
    assert.equal(baseLocalPart('jane'), 'jane');
    assert.equal(baseLocalPart('+only'), '+only');
  });

  it('treats case, display names and +tags as the same mailbox', () => {
    assert.ok(isSameMailbox('Jane@Example.com', 'jane@example.com'));
    assert.ok(isSameMailbox('jane+orders@example.com', 'Jane Doe <jane@example.com>'));
    assert.ok(isSameMailbox('jane+a@example.com', 'jane+b@example.com'));
  });

  it('tells different mailboxes apart', () => {
    assert.ok(!isSameMailbox('jane@example.com', 'jane@example.org'));
    assert.ok(!isSameMailbox('jane@example.com', 'janet@example.com'));
    assert.ok(!isSameMailbox('jane@mail.example.com', 'jane@example.com'));
    assert.ok(!isSameMailbox('+a@example.com', '+b@example.com'));
  });

  it('never matches something that is not an address', () => {
    assert.ok(!isSameMailbox('', ''));
    assert.ok(!isSameMailbox('jane', 'jane'));
    assert.ok(!isSameMailbox('@example.com', '@example.com'));
  });
});
