import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { makeReplyToken, REPLY_TOKEN_LENGTH, readReplyToken, replyAddress, tokensInAddresses } from './reply-token.ts';

const key = new Uint8Array(32).fill(7);
const otherKey = new Uint8Array(32).fill(8);
const ticketId = '0b6c3f0e-8a51-4c1e-9a43-2f7d3c9e1a55';

describe('reply tokens', () => {
  it('round-trips a ticket id', () => {
    const token = makeReplyToken(ticketId, key);
    assert.equal(readReplyToken(token, key), ticketId);
    for (let i = 0; i < 50; i++) {
      const id = randomUUID();
      assert.equal(readReplyToken(makeReplyToken(id, key), key), id);
    }
  });

  it('is lowercase base32 without padding, 42 characters (UUID + 80-bit MAC)', () => {
    const token = makeReplyToken(ticketId, key);
    assert.equal(token.length, REPLY_TOKEN_LENGTH);
    assert.equal(REPLY_TOKEN_LENGTH, 42);
    assert.match(token, /^[a-z2-7]+$/);
  });

  it('is deterministic for a ticket and key, and differs by key', () => {
    assert.equal(makeReplyToken(ticketId, key), makeReplyToken(ticketId, key));
    assert.notEqual(makeReplyToken(ticketId, key), makeReplyToken(ticketId, otherKey));
  });

  it('survives an MTA upper-casing the address', () => {
    const token = makeReplyToken(ticketId, key);
    assert.equal(readReplyToken(token.toUpperCase(), key), ticketId);
  });

  it('accepts an upper-case ticket id and returns it in lowercase', () => {
    assert.equal(readReplyToken(makeReplyToken(ticketId.toUpperCase(), key), key), ticketId);
  });

  it('refuses a token signed with another key', () => {
    assert.equal(readReplyToken(makeReplyToken(ticketId, otherKey), key), null);
  });

  it('refuses a token whose ticket id was altered (every position)', () => {
    const token = makeReplyToken(ticketId, key);
    for (let i = 0; i < token.length; i++) {
      const c = token[i] === 'a' ? 'b' : 'a';
      const altered = token.slice(0, i) + c + token.slice(i + 1);
      assert.equal(readReplyToken(altered, key), null, `position ${i}`);
    }
  });

  it('refuses a token moved onto another ticket id with the original MAC', () => {
    const mine = makeReplyToken(ticketId, key);
    const theirs = makeReplyToken(randomUUID(), key);
    // The first 25 characters carry the id's 125 leading bits; splice another id in front of our MAC.
    assert.equal(readReplyToken(theirs.slice(0, 25) + mine.slice(25), key), null);
  });

  it('refuses garbled input: wrong length, alphabet, padding, empty', () => {
    const token = makeReplyToken(ticketId, key);
    assert.equal(readReplyToken(token.slice(0, -1), key), null);
    assert.equal(readReplyToken(`${token}a`, key), null);
    assert.equal(readReplyToken(`${token.slice(0, -1)}1`, key), null);
    assert.equal(readReplyToken(`${token.slice(0, -2)}==`, key), null);
    assert.equal(readReplyToken('', key), null);
    assert.equal(readReplyToken('orders', key), null);
  });

  it('refuses a non-canonical spelling (non-zero trailing bits)', () => {
    const token = makeReplyToken(ticketId, key);
    // The last character carries 3 data bits and 2 zero bits; setting the lowest bit keeps the bytes.
    const last = 'abcdefghijklmnopqrstuvwxyz234567'.indexOf(token.at(-1)!);
    const sibling = token.slice(0, -1) + 'abcdefghijklmnopqrstuvwxyz234567'[last | 1];
    assert.notEqual(sibling, token);
    assert.equal(readReplyToken(sibling, key), null);
  });

  it('refuses a short key and a non-UUID ticket id', () => {
    assert.throws(() => makeReplyToken(ticketId, new Uint8Array(8)), RangeError);
    assert.throws(() => makeReplyToken('123', key), TypeError);
  });

  it('builds the reply address from the support address', () => {
    const token = makeReplyToken(ticketId, key);
    assert.equal(replyAddress('Support <Support@Acme.example>', token), `support+${token}@acme.example`);
    assert.throws(() => replyAddress('support', token), TypeError);
  });

  it('finds the tags of our own local part among recipients', () => {
    const token = makeReplyToken(ticketId, key);
    const tokens = tokensInAddresses(
      [
        'someone@acme.example',
        `"Support" <SUPPORT+${token.toUpperCase()}@acme.example>`,
        `support+${token}@acme.example`, // the same token twice: once
        'support+other@acme.example',
        `support+${token}@evil.example`, // another domain
        `sales+${token}@acme.example`, // another local part
        'support@acme.example', // no tag
      ],
      'support@acme.example',
    );
    assert.deepEqual(tokens, [token, 'other']);
    assert.equal(readReplyToken(tokens[0]!, key), ticketId);
  });

  it('with a tagged support address, takes only tags that extend it', () => {
    const tokens = tokensInAddresses(
      ['support+eu+abc@acme.example', 'support+abc@acme.example'],
      'support+eu@acme.example',
    );
    assert.deepEqual(tokens, ['abc']);
  });

  it('round-trips through replyAddress and tokensInAddresses', () => {
    const token = makeReplyToken(ticketId, key);
    const [found] = tokensInAddresses([replyAddress('help@acme.example', token)], 'help@acme.example');
    assert.equal(readReplyToken(found!, key), ticketId);
  });
});
