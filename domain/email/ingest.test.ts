// Ingest against the database alone (no mail servers): the threading and loop rules that decide which ticket a
// message may touch, with messages built as activities/email/parse.ts builds them.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, supportRequests, ticketComments } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../common/config.ts';
import { makeReplyToken, replyAddress } from '../../common/email/reply-token.ts';
import { testDatabase } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { type InboundMessage, ingestMessage, type MailboxContext } from './ingest.ts';
import { loadMailbox, mailboxContext } from './mailboxes.ts';

describe('email ingest (database)', () => {
  const { db } = testDatabase();
  const keys = loadConfig().credentialKeys;
  const noAuth = { results: null, flagged: false };

  async function mailbox(config: Record<string, unknown> = {}): Promise<MailboxContext> {
    const org = await makeOrganization();
    const id = randomUUID();
    const address = `support-${id.slice(0, 8)}@acme.test`;
    await db.insert(integrationConfigs).values({
      id,
      organizationId: org.organizationId,
      integrationType: 'email',
      name: 'Support',
      isActive: true,
      config: { address, ...config },
    });
    return mailboxContext(db, keys, await loadMailbox(db, org.organizationId, id), 'webhook');
  }

  function message(fields: Partial<InboundMessage> & Pick<InboundMessage, 'from' | 'to'>): InboundMessage {
    return {
      messageId: `${randomUUID()}@mail.test`,
      cc: [],
      subject: 'Hello',
      text: 'Some text',
      html: null,
      displayText: 'Some text',
      inReplyTo: null,
      references: [],
      threadIndex: null,
      headers: {},
      sizeBytes: 100,
      ...fields,
    };
  }

  async function commentsOn(ticketId: string) {
    return db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticketId));
  }

  it('never lets mail forged from our own address join a ticket by its subject number', async () => {
    const box = await mailbox();
    const alice = `alice-${randomUUID().slice(0, 8)}@customer.test`;
    const opened = await ingestMessage(
      db,
      box,
      message({ from: { address: alice, name: null }, to: [box.config.address] }),
      noAuth,
    );
    assert.equal(opened.status, 'ingested');
    const ticketId = opened.ticketId!;
    // Alice answers our reply: to the reply-token address, which is now on the ticket's mail.
    const token = replyAddress(box.config.address, makeReplyToken(ticketId, box.replyTokenKey));
    const answered = await ingestMessage(
      db,
      box,
      message({ from: { address: alice, name: null }, to: [token] }),
      noAuth,
    );
    assert.equal(answered.status === 'ingested' && answered.threadedBy.kind, 'join');

    // Anyone can put our public support address in From and a guessable [#n] in the subject.
    const [ticket] = await db.select().from(supportRequests).where(eq(supportRequests.id, ticketId));
    const forged = await ingestMessage(
      db,
      box,
      message({
        from: { address: box.config.address, name: null },
        to: [box.config.address],
        subject: `Re: [#${ticket!.number}] Hello`,
        text: 'Please wire the refund to this account instead',
      }),
      noAuth,
    );
    assert.equal(forged.status, 'ingested');
    assert.notEqual(forged.ticketId, ticketId, 'forged mail joined the customer’s ticket');
    assert.equal((await commentsOn(ticketId)).length, 1);
  });
});
