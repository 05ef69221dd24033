import assert from 'node:assert/strict';
import {
  MAX_MESSAGE_IDS_TO_LOOK_UP,
  messageIdsToLookUp,
  NOT_A_PARTICIPANT,
  planThreading,
  type ThreadingFacts,
  TICKET_UNAVAILABLE,
} from './threading-plan.ts';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const customer = 'jane@customer.example';
const stranger = 'news@marketing.example';

const tickets: ThreadingFacts['tickets'] = [
  { ticketId: A, number: 101, participants: [customer, 'agent@support.example'] },
  { ticketId: B, number: 202, participants: ['bob@other.example'] },
];
const messages: ThreadingFacts['messages'] = [
  { messageId: '<a1@support.example>', ticketId: A },
  { messageId: '<a2@customer.example>', ticketId: A },
  { messageId: '<a3@support.example>', ticketId: A },
  { messageId: '<b1@support.example>', ticketId: B },
];

const facts = (over: Partial<ThreadingFacts>): ThreadingFacts => ({
  sender: customer,
  tokenTicketId: null,
  inReplyTo: null,
  references: [],
  subjectTicketNumber: null,
  messages,
  tickets,
  ...over,
});

describe('threading plan', () => {
  describe('joining', () => {
    it('joins by a verified reply token', () => {
      assert.deepEqual(planThreading(facts({ tokenTicketId: A })), { kind: 'join', ticketId: A, by: 'token' });
    });

    it('joins by a token without a participant check: a forwarded colleague answers through it', () => {
      assert.deepEqual(planThreading(facts({ sender: 'colleague@customer.example', tokenTicketId: A })), {
        kind: 'join',
        ticketId: A,
        by: 'token',
      });
    });

    it('prefers the token over headers naming another ticket', () => {
      const plan = planThreading(
        facts({
          sender: 'bob@other.example',
          tokenTicketId: A,
          inReplyTo: '<b1@support.example>',
          references: ['<b1@support.example>'],
          subjectTicketNumber: 202,
        }),
      );
      assert.deepEqual(plan, { kind: 'join', ticketId: A, by: 'token' });
    });

    it('joins by In-Reply-To from a participant', () => {
      assert.deepEqual(planThreading(facts({ inReplyTo: '<a3@support.example>' })), {
        kind: 'join',
        ticketId: A,
        by: 'in-reply-to',
      });
    });

    it('compares Message-IDs without brackets and whitespace', () => {
      assert.deepEqual(planThreading(facts({ inReplyTo: ' a3@support.example ' })), {
        kind: 'join',
        ticketId: A,
        by: 'in-reply-to',
      });
      assert.equal(planThreading(facts({ inReplyTo: '<A3@support.example>' })).kind, 'new', 'case is kept');
    });

    it('joins a participant whose address differs only in case and +tag', () => {
      assert.deepEqual(
        planThreading(facts({ sender: 'Jane+Work@Customer.example', inReplyTo: '<a1@support.example>' })),
        {
          kind: 'join',
          ticketId: A,
          by: 'in-reply-to',
        },
      );
    });

    it('Chatwoot #10028: an unknown In-Reply-To with References naming the thread joins it, no duplicate', () => {
      // The customer answered a copy of our mail that reached them with a different Message-ID (a CC, a relay that
      // rewrote it): In-Reply-To names nothing we know, References still carries the thread.
      const plan = planThreading(
        facts({
          inReplyTo: '<rewritten-by-relay@customer-gateway.example>',
          references: [
            '<a1@support.example>',
            '<a2@customer.example>',
            '<rewritten-by-relay@customer-gateway.example>',
          ],
        }),
      );
      assert.deepEqual(plan, { kind: 'join', ticketId: A, by: 'references' });
    });

    it('Zammad #5716: References alone (no In-Reply-To) joins, even when only its first entry is known', () => {
      const plan = planThreading(
        facts({ references: ['<a1@support.example>', '<unknown-1@x.example>', '<unknown-2@x.example>'] }),
      );
      assert.deepEqual(plan, { kind: 'join', ticketId: A, by: 'references' });
    });

    it('checks References most recent first', () => {
      const both = {
        ...facts({ sender: 'jane@customer.example', references: ['<b1@support.example>', '<a1@support.example>'] }),
        tickets: [tickets[0]!, { ...tickets[1]!, participants: [customer] }],
      };
      assert.deepEqual(planThreading(both), { kind: 'join', ticketId: A, by: 'references' });
    });

    it('joins by the subject number from a participant', () => {
      assert.deepEqual(planThreading(facts({ subjectTicketNumber: 101 })), {
        kind: 'join',
        ticketId: A,
        by: 'subject',
      });
    });

    it('takes In-Reply-To before References before the subject', () => {
      const allThree = {
        ...facts({
          inReplyTo: '<b1@support.example>',
          references: ['<a1@support.example>'],
          subjectTicketNumber: 101,
        }),
        tickets: [tickets[0]!, { ...tickets[1]!, participants: [customer] }],
      };
      assert.deepEqual(planThreading(allThree), { kind: 'join', ticketId: B, by: 'in-reply-to' });
      assert.deepEqual(planThreading({ ...allThree, inReplyTo: null, references: ['<b1@support.example>'] }), {
        kind: 'join',
        ticketId: B,
        by: 'references',
      });
    });

    it('falls through a header naming a stranger’s ticket to one the sender belongs to', () => {
      const plan = planThreading(
        facts({ inReplyTo: '<b1@support.example>', references: ['<b1@support.example>'], subjectTicketNumber: 101 }),
      );
      assert.deepEqual(plan, { kind: 'join', ticketId: A, by: 'subject' });
    });

    it('takes the first In-Reply-To id that leads somewhere when the header names several', () => {
      assert.deepEqual(planThreading(facts({ inReplyTo: '<nope@x.example> <a2@customer.example>' })), {
        kind: 'join',
        ticketId: A,
        by: 'in-reply-to',
      });
    });
  });

  describe('opening a new ticket', () => {
    it('opens a new ticket with nothing to go on', () => {
      assert.deepEqual(planThreading(facts({})), { kind: 'new', ignored: [] });
    });

    it('opens a new ticket when no header names a known message', () => {
      assert.deepEqual(planThreading(facts({ inReplyTo: '<x@y>', references: ['<y@z>'] })), {
        kind: 'new',
        ignored: [],
      });
    });

    it('a newsletter carrying the thread’s References from a stranger opens a new ticket', () => {
      const plan = planThreading(
        facts({
          sender: stranger,
          inReplyTo: '<a3@support.example>',
          references: ['<a1@support.example>', '<a2@customer.example>', '<a3@support.example>'],
        }),
      );
      assert.deepEqual(plan, {
        kind: 'new',
        ignored: [
          { by: 'in-reply-to', ticketId: A, reason: NOT_A_PARTICIPANT },
          { by: 'references', ticketId: A, reason: NOT_A_PARTICIPANT },
        ],
      });
    });

    it('a BCC copy forwarded by someone outside the ticket opens a new ticket', () => {
      const plan = planThreading(
        facts({
          sender: 'bob@other.example',
          inReplyTo: '<a2@customer.example>',
          references: ['<a1@support.example>'],
        }),
      );
      assert.equal(plan.kind, 'new');
    });

    it('a forged [#123] in a stranger’s subject opens a new ticket', () => {
      assert.deepEqual(planThreading(facts({ sender: stranger, subjectTicketNumber: 101 })), {
        kind: 'new',
        ignored: [{ by: 'subject', ticketId: A, reason: NOT_A_PARTICIPANT }],
      });
    });

    it('a subject number of no candidate ticket opens a new ticket', () => {
      assert.deepEqual(planThreading(facts({ subjectTicketNumber: 999 })), { kind: 'new', ignored: [] });
    });

    it('a message of a ticket that is not a candidate (deleted, another organisation) cannot be joined', () => {
      const plan = planThreading({
        ...facts({ inReplyTo: '<a1@support.example>' }),
        tickets: [tickets[1]!],
      });
      assert.deepEqual(plan, {
        kind: 'new',
        ignored: [{ by: 'in-reply-to', ticketId: A, reason: TICKET_UNAVAILABLE }],
      });
    });

    it('an empty or malformed sender is nobody’s participant', () => {
      assert.equal(planThreading(facts({ sender: '', inReplyTo: '<a1@support.example>' })).kind, 'new');
      assert.equal(planThreading(facts({ sender: 'jane', subjectTicketNumber: 101 })).kind, 'new');
    });
  });

  describe('message ids to look up', () => {
    it('lists In-Reply-To, then References most recent first, normalised and de-duplicated', () => {
      assert.deepEqual(messageIdsToLookUp('<c@x>', ['<a@x>', '<b@x>', '<c@x>']), ['c@x', 'b@x', 'a@x']);
      assert.deepEqual(messageIdsToLookUp(null, '<a@x> <b@x>'), ['b@x', 'a@x']);
      assert.deepEqual(messageIdsToLookUp(undefined, undefined), []);
    });

    it('caps the list, keeping In-Reply-To and the newest References', () => {
      const refs = Array.from({ length: 500 }, (_, i) => `<r${i}@x>`);
      const ids = messageIdsToLookUp('<irt@x>', refs);
      assert.equal(ids.length, MAX_MESSAGE_IDS_TO_LOOK_UP);
      assert.equal(ids[0], 'irt@x');
      assert.equal(ids[1], 'r499@x');
    });
  });
});
