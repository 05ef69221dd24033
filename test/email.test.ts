// Email end to end, against real servers: OpenSMTPD delivering into Dovecot (SMTP → mailbox → IMAP), dnsmasq serving
// the test domains' DKIM, SPF and DMARC records, the API, the relay, and the email worker (the mailbox reader
// `email-mailbox/<id>` and the organisation's sender `email-outbox/<org>`). A customer writes, a ticket appears; an agent
// answers, the customer's mail client receives a threaded reply; the customer answers that, and it lands on the
// same ticket.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  customers,
  emailInbound,
  supportRequests,
  ticketAttachments,
  ticketComments,
  ticketEmails,
} from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { awaitMail, createMailbox, headerOf, rawMessage, readInbox, sendAsCustomer } from './email-support.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { ensureFileServices } from './support/file-services.ts';
import { addMailUser, ensureMailServices } from './support/mail-services.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

const PASSWORD = 'mail-test-password';

describe('email end to end (OpenSMTPD, Dovecot, dnsmasq)', function () {
  this.timeout(120_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline;
  let admin: TestUser;
  let queue: string;
  /** Each test its own support address and customers, so mailboxes never mix. */
  let run: string;
  let support: string;

  before(async () => {
    await Promise.all([ensureMailServices(), ensureFileServices()]);
    queue = uniqueTaskQueue('email');
    const temporal = await testTemporal();
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    pipeline = await startPipeline(queue);
    admin = await createTestOrganization({ role: 'admin' });
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
  });
  beforeEach(async () => {
    run = randomUUID().slice(0, 8);
    support = `support-${run}@support.test`;
    await addMailUser(support, PASSWORD);
  });

  async function customer(name: string, domain = 'pass.test'): Promise<string> {
    const address = `${name}-${run}@${domain}`;
    await addMailUser(address, PASSWORD);
    return address;
  }

  async function ticketOf(requester: string) {
    return eventually(
      async () => {
        const [row] = await db
          .select({ id: supportRequests.id, number: supportRequests.number, channel: supportRequests.channel })
          .from(supportRequests)
          .innerJoin(customers, eq(customers.id, supportRequests.requesterId))
          .where(eq(customers.email, requester));
        assert.ok(row, `no ticket for ${requester} yet`);
        return row;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  }

  it('opens a ticket from mail, sends a threaded reply the customer can answer, and files the answer on the same ticket', async () => {
    const alice = await customer('alice');
    await createMailbox(admin, { address: support, password: PASSWORD });

    const firstId = await sendAsCustomer({
      from: alice,
      to: support,
      subject: 'My invoice is wrong',
      text: 'Hello,\nthe invoice for March lists two seats; we have one.\n\nAlice',
      dkim: true,
    });
    const ticket = await ticketOf(alice);
    assert.equal(ticket.channel, 'email');

    const thread = await admin.fetch('GET', `/api/tickets/${ticket.id}/emails`);
    assert.equal(thread.status, 200, JSON.stringify(thread.body));
    assert.equal(thread.body.data.length, 1);
    const inbound = thread.body.data[0];
    assert.equal(inbound.direction, 'inbound');
    assert.equal(inbound.from, alice);
    assert.equal(`<${inbound.messageId}>`, firstId);
    assert.deepEqual(
      { dkim: inbound.auth.dkim, spf: inbound.auth.spf, dmarc: inbound.auth.dmarc },
      { dkim: 'pass', spf: 'pass', dmarc: 'pass' },
    );

    // The agent answers on the ticket; the customer's client receives it, threaded.
    const reply = await admin.fetch('POST', `/api/tickets/${ticket.id}/comments`, {
      body: 'Thanks Alice, we corrected the invoice <and> sent it again.',
      isPublic: true,
    });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const received = await awaitMail(alice, PASSWORD, (m) => m.subject.includes(`[#${ticket.number}]`));
    assert.equal(received.subject, `Re: [#${ticket.number}] My invoice is wrong`);
    assert.equal(headerOf(received.headers, 'in-reply-to'), firstId);
    assert.match(
      headerOf(received.headers, 'references') ?? '',
      new RegExp(firstId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')),
    );
    const replyTo = headerOf(received.headers, 'reply-to') ?? '';
    assert.match(replyTo, new RegExp(`support-${run}\\+[a-z2-7]{42}@support\\.test`));
    assert.ok(headerOf(received.headers, 'x-switchboard-loop'), 'our mail carries the loop header');
    assert.ok(received.source.toString('utf8').includes('&lt;and&gt;'), 'the agent’s text is escaped in the HTML');
    const [sent] = await db
      .select()
      .from(ticketEmails)
      .where(and(eq(ticketEmails.supportRequestId, ticket.id), eq(ticketEmails.direction, 'outbound')));
    assert.equal(sent!.status, 'sent');
    assert.equal(headerOf(received.headers, 'message-id'), `<${sent!.messageId}>`);

    // Alice answers from her client: to the reply-token address, with the reply's headers.
    const replyAddress = /<?([^<>\s]+@support\.test)>?/.exec(replyTo)![1]!;
    await sendAsCustomer({
      from: alice,
      to: replyAddress,
      subject: `Re: ${received.subject}`,
      text: 'Perfect, thank you!\n\nOn Tue, the desk wrote:\n> Thanks Alice, we corrected the invoice',
      inReplyTo: `<${sent!.messageId}>`,
      references: [firstId, `<${sent!.messageId}>`],
      dkim: true,
    });
    const comment = await eventually(
      async () => {
        const [row] = await db
          .select()
          .from(ticketComments)
          .where(and(eq(ticketComments.supportRequestId, ticket.id), eq(ticketComments.source, 'email')));
        assert.ok(row, 'the answer is not on the ticket yet');
        return row;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(comment.body, 'Perfect, thank you!', 'the quoted reply is trimmed for the ticket view');
    assert.equal(comment.isPublic, true);
    const tickets = await db
      .select({ id: supportRequests.id })
      .from(supportRequests)
      .innerJoin(customers, eq(customers.id, supportRequests.requesterId))
      .where(eq(customers.email, alice));
    assert.equal(tickets.length, 1, 'the answer did not open a second ticket');

    // The mailbox marks what it filed, so a person reading the inbox sees it was taken in.
    const inbox = await readInbox(support, PASSWORD);
    assert.equal(inbox.length, 2);
  });

  it('never merges a stranger’s mail that carries the thread’s headers, and files a participant’s by References alone', async () => {
    const bob = await customer('bob');
    const mallory = await customer('mallory');
    await createMailbox(admin, { address: support, password: PASSWORD });
    const firstId = await sendAsCustomer({ from: bob, to: support, subject: 'Login fails', text: 'I cannot log in.' });
    const ticket = await ticketOf(bob);

    // A newsletter (or a BCC) from someone else with the same References and the ticket's subject tag.
    await sendAsCustomer({
      from: mallory,
      to: support,
      subject: `Re: [#${ticket.number}] Login fails`,
      text: 'Buy now!',
      inReplyTo: firstId,
      references: [firstId],
    });
    const strangers = await ticketOf(mallory);
    assert.notEqual(strangers.id, ticket.id);

    // Bob answers from another client whose In-Reply-To names a message we never saw, but whose References holds
    // the thread (Chatwoot #10028 opened a second conversation for this).
    await sendAsCustomer({
      from: bob,
      to: support,
      subject: 'Re: Login fails',
      text: 'Still failing.',
      inReplyTo: '<unknown-123@elsewhere.test>',
      references: [firstId, '<unknown-123@elsewhere.test>'],
    });
    await eventually(
      async () => {
        const rows = await db
          .select()
          .from(ticketComments)
          .where(and(eq(ticketComments.supportRequestId, ticket.id), eq(ticketComments.source, 'email')));
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.body, 'Still failing.');
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });

  it('files mail posted to the inbound webhook once per Message-ID, and refuses a wrong secret and malformed MIME', async () => {
    const carol = await customer('carol');
    const mailboxId = await createMailbox(admin, {
      address: support,
      password: PASSWORD,
      config: { imap: null },
    });
    const secret = await admin.fetch('POST', `/api/email/integrations/${mailboxId}/inbound-secret`, {});
    assert.equal(secret.status, 201, JSON.stringify(secret.body));
    const url = new URL(secret.body.url);
    const post = (body: Buffer, auth: string) =>
      fetch(`${api.baseUrl}${url.pathname}`, {
        method: 'POST',
        headers: { 'content-type': 'message/rfc822', authorization: auth },
        body: new Uint8Array(body),
      });
    const basic = (password: string) => `Basic ${Buffer.from(`switchboard:${password}`).toString('base64')}`;
    const raw = await rawMessage({
      from: carol,
      to: support,
      subject: 'Webhook delivered',
      text: 'Posted by a provider.',
      messageId: `<webhook-${run}@pass.test>`,
      dkim: true,
    });

    assert.equal((await post(raw, basic('wrong'))).status, 401);
    const first = await post(raw, basic(secret.body.secret));
    assert.equal(first.status, 200);
    const firstBody = await first.json();
    assert.equal(firstBody.status, 'ingested');
    const again = await post(raw, `Bearer ${secret.body.secret}`);
    assert.deepEqual(await again.json(), { status: 'duplicate', ticketId: firstBody.ticketId });
    const [emails] = [
      await db.select().from(ticketEmails).where(eq(ticketEmails.supportRequestId, firstBody.ticketId)),
    ];
    assert.equal(emails.length, 1);
    assert.equal(emails[0]!.authResults?.dkim, 'pass');

    const malformed = await post(
      Buffer.from('this is not a message\r\n\r\nno headers at all'),
      basic(secret.body.secret),
    );
    assert.equal(malformed.status, 422);
    const refused = await db
      .select()
      .from(emailInbound)
      .where(and(eq(emailInbound.integrationId, mailboxId), eq(emailInbound.status, 'refused')));
    assert.equal(refused.length, 1);
    assert.match(refused[0]!.reason ?? '', /From address|headers/);
  });

  it('stores each attachment through the pipeline or shows why not, never dropping one', async () => {
    const dave = await customer('dave');
    await createMailbox(admin, { address: support, password: PASSWORD });
    await sendAsCustomer({
      from: dave,
      to: support,
      subject: 'Screenshots',
      text: 'See attached.',
      attachments: [
        { filename: 'notes.txt', content: Buffer.from('plain notes\n'.repeat(100)), contentType: 'text/plain' },
        {
          filename: 'setup.exe',
          content: Buffer.from('MZ\x90\x00\x03\x00\x00\x00'),
          contentType: 'application/octet-stream',
        },
      ],
    });
    const ticket = await ticketOf(dave);
    const email = await eventually(
      async () => {
        const [row] = await db.select().from(ticketEmails).where(eq(ticketEmails.supportRequestId, ticket.id));
        assert.ok(row && row.attachmentIds.length + row.attachmentRefusals.length === 2, 'attachments not done');
        return row;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(email.attachmentIds.length, 1);
    const [stored] = await db.select().from(ticketAttachments).where(eq(ticketAttachments.id, email.attachmentIds[0]!));
    assert.equal(stored!.source, 'email');
    assert.equal(stored!.fileName, 'notes.txt');
    assert.equal(email.attachmentRefusals.length, 1);
    assert.equal(email.attachmentRefusals[0]!.fileName, 'setup.exe');
    assert.ok(email.attachmentRefusals[0]!.reason.length > 0);
  });

  it('keeps one organisation’s threads from another', async () => {
    const erin = await customer('erin');
    await createMailbox(admin, { address: support, password: PASSWORD });
    await sendAsCustomer({ from: erin, to: support, subject: 'Private', text: 'Only for Acme.' });
    const ticket = await ticketOf(erin);
    const other = await createTestOrganization({ role: 'admin' });
    assert.equal((await other.fetch('GET', `/api/tickets/${ticket.id}/emails`)).status, 404);
    assert.equal(
      (await other.fetch('POST', `/api/tickets/${ticket.id}/emails`, { to: [erin], bodyText: 'hi' })).status,
      404,
    );
  });
});
