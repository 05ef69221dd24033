import assert from 'node:assert/strict';
import {
  childThreadIndex,
  isThreadIndex,
  MAX_REFERENCES,
  newMessageId,
  newThreadIndex,
  threadHeaders,
} from './outbound-headers.ts';

const msg = (messageId: string, direction: 'inbound' | 'outbound' = 'inbound') => ({ messageId, direction });

describe('outbound threading headers', () => {
  describe('In-Reply-To and References', () => {
    it('are empty for an empty thread', () => {
      assert.deepEqual(threadHeaders([]), { inReplyTo: null, references: [] });
    });

    it('answer the latest message and list the chain oldest first, in header form', () => {
      assert.deepEqual(
        threadHeaders([msg('<a@customer.example>'), msg('b@acme.example', 'outbound'), msg('<c@customer.example>')]),
        {
          inReplyTo: '<c@customer.example>',
          references: ['<a@customer.example>', '<b@acme.example>', '<c@customer.example>'],
        },
      );
    });

    it('answer the latest message even when it is our own', () => {
      assert.equal(
        threadHeaders([msg('<a@c.example>'), msg('<b@acme.example>', 'outbound')]).inReplyTo,
        '<b@acme.example>',
      );
    });

    it('drop duplicates and ids that are not Message-IDs', () => {
      assert.deepEqual(threadHeaders([msg('<a@x>'), msg('<a@x>'), msg(''), msg('<b@x>'), msg('junk')]), {
        inReplyTo: '<b@x>',
        references: ['<a@x>', '<b@x>'],
      });
    });

    it('cap a long chain to the first message plus the latest ones', () => {
      const thread = Array.from({ length: 50 }, (_, i) => msg(`<m${i}@x>`));
      const { inReplyTo, references } = threadHeaders(thread);
      assert.equal(inReplyTo, '<m49@x>');
      assert.equal(references.length, MAX_REFERENCES);
      assert.equal(references[0], '<m0@x>');
      assert.equal(references[1], '<m31@x>');
      assert.equal(references.at(-1), '<m49@x>');
    });
  });

  describe('Message-ID', () => {
    it('is <id@domain>', () => {
      assert.equal(
        newMessageId('0b6c3f0e-8a51-4c1e.abc', 'Mail.Acme.example'),
        '<0b6c3f0e-8a51-4c1e.abc@mail.acme.example>',
      );
    });

    it('refuses an id or domain that would break the header', () => {
      for (const [id, domain] of [
        ['a b', 'x.example'],
        ['a>', 'x.example'],
        ['a\r\nBcc: x@y', 'x.example'],
        ['', 'x.example'],
        ['a', ''],
        ['a', 'x.example>'],
        ['a@b', 'x.example'],
      ] as const)
        assert.throws(() => newMessageId(id, domain), TypeError, `${id} @ ${domain}`);
    });
  });

  describe('Thread-Index', () => {
    const guid = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const start = new Date('2026-03-02T10:14:00Z');

    it('starts a conversation with FILETIME >> 16 and the GUID (22 bytes)', () => {
      const bytes = Buffer.from(newThreadIndex(start, guid), 'base64');
      assert.equal(bytes.length, 22);
      const filetime = BigInt(start.getTime()) * 10000n + 116444736000000000n;
      assert.equal(bytes.subarray(0, 6).toString('hex'), (filetime >> 16n).toString(16).padStart(12, '0'));
      assert.equal(bytes[0], 0x01, 'the "reserved" byte Outlook writes');
      assert.deepEqual([...bytes.subarray(6)], [...guid]);
    });

    it('matches the time layout of a real Outlook header', () => {
      // Outlook, 2004: "AcSlRYTqtl6oDphuRN2X7S/dyVKRJA==" begins 01 c4 a5 45 84 ea: FILETIME >> 16 of 2004-09-28.
      const real = Buffer.from('AcSlRYTqtl6oDphuRN2X7S/dyVKRJA==', 'base64');
      const time = BigInt(`0x${real.subarray(0, 6).toString('hex')}`) << 16n;
      const date = new Date(Number((time - 116444736000000000n) / 10000n));
      assert.equal(date.toISOString().slice(0, 10), '2004-09-28');
    });

    it('refuses a GUID that is not 16 bytes', () => {
      assert.throws(() => newThreadIndex(start, new Uint8Array(8)), RangeError);
    });

    it('appends a 5-byte reply block with the time since the conversation began', () => {
      const parent = newThreadIndex(start, guid);
      const later = new Date(start.getTime() + 3_600_000);
      const child = Buffer.from(childThreadIndex(parent, later, 0xab), 'base64');
      assert.equal(child.length, 27);
      assert.deepEqual(child.subarray(0, 22), Buffer.from(parent, 'base64'));
      const block = BigInt(`0x${child.subarray(22).toString('hex')}`);
      assert.equal(block >> 39n, 0n, 'delta code 0 under ~1.78 years');
      assert.equal(Number(block & 0xffn), 0xab, 'random byte');
      // The header keeps FILETIME >> 16, so the delta is measured from the truncated start.
      const startFt = ((BigInt(start.getTime()) * 10000n + 116444736000000000n) >> 16n) << 16n;
      const delta = BigInt(later.getTime()) * 10000n + 116444736000000000n - startFt;
      assert.equal((block >> 8n) & 0x7fffffffn, delta >> 18n);
    });

    it('uses the coarse delta code past ~1.78 years', () => {
      const parent = newThreadIndex(start, guid);
      const later = new Date(start.getTime() + 3 * 365 * 86_400_000);
      const block = BigInt(
        `0x${Buffer.from(childThreadIndex(parent, later, 0), 'base64')
          .subarray(22)
          .toString('hex')}`,
      );
      assert.equal(block >> 39n, 1n);
      const startFt = ((BigInt(start.getTime()) * 10000n + 116444736000000000n) >> 16n) << 16n;
      const delta = BigInt(later.getTime()) * 10000n + 116444736000000000n - startFt;
      assert.equal((block >> 8n) & 0x7fffffffn, delta >> 23n);
    });

    it('chains replies, each adding a block, and measures from the header, not the previous reply', () => {
      const parent = newThreadIndex(start, guid);
      const t1 = new Date(start.getTime() + 60_000);
      const t2 = new Date(start.getTime() + 120_000);
      const one = childThreadIndex(parent, t1, 1);
      const two = childThreadIndex(one, t2, 2);
      const bytes = Buffer.from(two, 'base64');
      assert.equal(bytes.length, 32);
      const b1 = BigInt(`0x${bytes.subarray(22, 27).toString('hex')}`) >> 8n;
      const b2 = BigInt(`0x${bytes.subarray(27, 32).toString('hex')}`) >> 8n;
      assert.ok(b2 > b1);
      assert.ok(isThreadIndex(two));
    });

    it('treats a parent stamped in the future as "now"', () => {
      const parent = newThreadIndex(new Date(start.getTime() + 86_400_000), guid);
      const block = Buffer.from(childThreadIndex(parent, start, 0), 'base64').subarray(22);
      assert.equal(block.toString('hex'), '0000000000');
    });

    it('recognises well-formed values and refuses garbage', () => {
      assert.ok(isThreadIndex('AcSlRYTqtl6oDphuRN2X7S/dyVKRJA=='));
      assert.ok(isThreadIndex(newThreadIndex(start, guid)));
      assert.ok(!isThreadIndex(''));
      assert.ok(!isThreadIndex('not base64!'));
      assert.ok(!isThreadIndex(Buffer.alloc(21).toString('base64')));
      assert.ok(!isThreadIndex(Buffer.alloc(25).toString('base64')));
      assert.throws(() => childThreadIndex('garbage', start), RangeError);
    });

    it('picks a random byte when none is given', () => {
      const parent = newThreadIndex(start, guid);
      const randoms = new Set(
        Array.from({ length: 40 }, () => Buffer.from(childThreadIndex(parent, start), 'base64')[26]),
      );
      assert.ok(randoms.size > 1);
    });
  });
});
