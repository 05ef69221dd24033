// Email when things go wrong or get tricky, against the real mail servers: acknowledgements that never loop, mail
// that fails DMARC held until an agent releases it, SMTP refusing a reply for good (5xx) or being down for a while,
// a message over the size limit, and the mailbox renumbering its UIDs (UIDVALIDITY).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { customers, emailInbound, supportRequests, ticketEmails } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { awaitMail, createMailbox, headerOf, readInbox, sendAsCustomer } from './email-support.ts';
import { createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { ensureFileServices } from './support/file-services.ts';
import {
  addMailUser,
  doveadm,
  ensureMailServices,
  startMailService,
  stopMailService,
} from './support/mail-services.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

const PASSWORD = 'mail-test-password';

describe('email under failure (real SMTP, IMAP and DNS)', function () {
  this.timeout(180_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline;
  let admin: TestUser;
  let run: string;
  let support: string;

  before(async () => {
    await Promise.all([ensureMailServices(), ensureFileServices()]);
    const queue = uniqueTaskQueue('email-failures');
    const temporal = await testTemporal();
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    pipeline = await startPipeline(queue);
    admin = await createTestOrganization({ role: 'admin' });
  });
  after(async () => {
    await startMailService('smtp').catch(() => undefined);
    await pipeline?.stop();
    await api?.close();
  });
  beforeEach(async () => {
    run = randomUUID().slice(0, 8);
    support = `desk-${run}@support.test`;
    await addMailUser(support, PASSWORD);
  });

  async function customer(name: string, domain = 'pass.test', mailbox = true): Promise<string> {
    const address = `${name}-${run}@${domain}`;
    if (mailbox) await addMailUser(address, PASSWORD);
    return address;
  }

  async function ticketsOf(requester: string, count = 1) {
    return eventually(
      async () => {
        const rows = await db
          .select({ id: supportRequests.id, number: supportRequests.number, status: supportRequests.status })
          .from(supportRequests)
          .innerJoin(customers, eq(customers.id, supportRequests.requesterId))
          .where(eq(customers.email, requester));
        assert.equal(rows.length, count, `tickets of ${requester}`);
        return rows;
      },
      { timeoutMs: 40_000, intervalMs: 250 },
    );
  }

  const outbound = (ticketId: string) =>
    db
      .select()
      .from(ticketEmails)
      .where(and(eq(ticketEmails.supportRequestId, ticketId), eq(ticketEmails.direction, 'outbound')));

  it('acknowledges a new ticket once per sender per window, and never automated mail or our own', async () => {
    const frank = await customer('frank');
    const robot = await customer('robot');
    await createMailbox(admin, {
      address: support,
      password: PASSWORD,
      config: {
        autoReply: { enabled: true, subject: 'We got it', body: 'A person will answer soon.', windowHours: 24 },
      },
    });
    await sendAsCustomer({ from: frank, to: support, subject: 'First question', text: 'Help with A.' });
    const ack = await awaitMail(frank, PASSWORD, (m) => m.subject.includes('We got it'));
    assert.equal(headerOf(ack.headers, 'auto-submitted'), 'auto-replied');
    assert.ok(headerOf(ack.headers, 'x-switchboard-loop'));
    const [first] = await ticketsOf(frank);
    assert.match(ack.subject, new RegExp(`\\[#${first!.number}\\]`));

    // A second new ticket from frank inside the window: no second acknowledgement.
    await sendAsCustomer({ from: frank, to: support, subject: 'Second question', text: 'Help with B.' });
    const both = await ticketsOf(frank, 2);
    // Another mailer's auto-reply and a message from ourselves: tickets, but no acknowledgement.
    await sendAsCustomer({
      from: robot,
      to: support,
      subject: 'Out of office',
      text: 'I am away.',
      headers: { 'Auto-Submitted': 'auto-replied' },
    });
    const [robotTicket] = await ticketsOf(robot);
    await eventually(
      async () => {
        const acksOf = async (ticketId: string) => (await outbound(ticketId)).filter((r) => r.kind === 'auto_reply');
        const frankAcks = (await Promise.all(both.map((t) => acksOf(t.id)))).flat();
        assert.equal(frankAcks.length, 1, 'one acknowledgement for frank in the window');
        assert.equal(frankAcks[0]!.supportRequestId, first!.id);
        assert.equal(frankAcks[0]!.status, 'sent');
        assert.equal((await acksOf(robotTicket!.id)).length, 0);
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    assert.equal((await readInbox(frank, PASSWORD)).filter((m) => m.subject.includes('We got it')).length, 1);
    assert.equal((await readInbox(robot, PASSWORD)).length, 0, 'no acknowledgement to an auto-reply');
  });

  it('holds mail that fails DMARC under the hold policy until an agent releases it', async () => {
    const spoofer = await customer('ceo', 'spffail.test', false);
    await createMailbox(admin, { address: support, password: PASSWORD, config: { dmarcPolicy: 'hold' } });
    await sendAsCustomer({ from: spoofer, to: support, subject: 'Wire the money', text: 'Urgent.' });
    const held = await eventually(
      async () => {
        const list = await admin.fetch('GET', '/api/email/inbound?status=held');
        assert.equal(list.status, 200, JSON.stringify(list.body));
        const found = list.body.data.find((m: { from: string }) => m.from === spoofer);
        assert.ok(found, 'not held yet');
        return found;
      },
      { timeoutMs: 40_000, intervalMs: 500 },
    );
    assert.match(held.reason, /DMARC failed/);
    assert.equal(held.auth.spf, 'fail');
    assert.equal(held.auth.dmarc, 'fail');
    const none = await db
      .select()
      .from(supportRequests)
      .innerJoin(customers, eq(customers.id, supportRequests.requesterId))
      .where(eq(customers.email, spoofer));
    assert.equal(none.length, 0, 'no ticket while held');

    const other = await createTestOrganization({ role: 'admin' });
    assert.equal((await other.fetch('POST', `/api/email/inbound/${held.id}/release`, {})).status, 404);

    const released = await admin.fetch('POST', `/api/email/inbound/${held.id}/release`, {});
    assert.equal(released.status, 200, JSON.stringify(released.body));
    assert.equal(released.body.inbound.status, 'released');
    const [ticket] = await ticketsOf(spoofer);
    assert.equal(released.body.ticketId, ticket!.id);
    const [row] = await db.select().from(emailInbound).where(eq(emailInbound.id, held.id));
    assert.equal(row!.heldMessage, null, 'the sealed copy is erased once decided');
    assert.equal((await admin.fetch('POST', `/api/email/inbound/${held.id}/release`, {})).status, 409);
  });

  it('fails a reply the server refuses for good (5xx) with its words, and sends one it could not deliver yet once the server is back', async () => {
    // A requester without a mailbox: our SMTP server answers 550 for them.
    const ghost = await customer('ghost', 'pass.test', false);
    const grace = await customer('grace');
    await createMailbox(admin, { address: support, password: PASSWORD });
    await sendAsCustomer({ from: ghost, to: support, subject: 'Nobody home', text: 'Bounce me.' });
    await sendAsCustomer({ from: grace, to: support, subject: 'Patience', text: 'I can wait.' });
    const [ghostTicket] = await ticketsOf(ghost);
    const [graceTicket] = await ticketsOf(grace);

    await admin.fetch('POST', `/api/tickets/${ghostTicket!.id}/comments`, { body: 'Answer', isPublic: true });
    const failed = await eventually(
      async () => {
        const [row] = await outbound(ghostTicket!.id);
        assert.equal(row?.status, 'failed');
        return row!;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.match(failed.failureReason ?? '', /refused/);
    const thread = await admin.fetch('GET', `/api/tickets/${ghostTicket!.id}/emails`);
    assert.equal(thread.body.data.find((e: { direction: string }) => e.direction === 'outbound').status, 'failed');

    await stopMailService('smtp');
    try {
      await admin.fetch('POST', `/api/tickets/${graceTicket!.id}/comments`, { body: 'Soon', isPublic: true });
      const waiting = await eventually(
        async () => {
          const [row] = await outbound(graceTicket!.id);
          assert.match(row?.failureReason ?? '', /retrying/);
          return row!;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.equal(waiting.status, 'queued', 'a temporary failure keeps the reply queued');
      assert.match(waiting.failureReason ?? '', /connection refused/);
    } finally {
      await startMailService('smtp');
    }
    await eventually(
      async () => {
        const [row] = await outbound(graceTicket!.id);
        assert.equal(row?.status, 'sent');
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.equal((await readInbox(grace, PASSWORD)).length, 1, 'sent once');
  });

  it('refuses a 30 MB message without downloading it and reads on, and survives a UIDVALIDITY change without doubling', async () => {
    const heidi = await customer('heidi');
    const mailboxId = await createMailbox(admin, { address: support, password: PASSWORD });
    const big = Buffer.alloc(30 * 1024 * 1024, 'a');
    await sendAsCustomer({
      from: heidi,
      to: support,
      subject: 'Huge',
      text: 'See attachment',
      attachments: [{ filename: 'big.txt', content: big, contentType: 'text/plain' }],
    });
    await sendAsCustomer({ from: heidi, to: support, subject: 'Small', text: 'After the huge one.' });
    await eventually(
      async () => {
        const rows = await db.select().from(emailInbound).where(eq(emailInbound.integrationId, mailboxId));
        assert.deepEqual(rows.map((r) => r.status).sort(), ['ingested', 'refused']);
        const refused = rows.find((r) => r.status === 'refused')!;
        assert.match(refused.reason ?? '', /over this mailbox's limit/);
        assert.ok((refused.sizeBytes ?? 0) > 30_000_000);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );

    // The server renumbers the mailbox; the reader resyncs by Message-ID: nothing filed twice, nothing skipped.
    await doveadm('mailbox', 'update', '--uid-validity', String(Math.floor(Date.now() / 1000)), '-u', support, 'INBOX');
    await sendAsCustomer({ from: heidi, to: support, subject: 'After renumbering', text: 'Still here.' });
    await eventually(
      async () => {
        const rows = await db.select().from(emailInbound).where(eq(emailInbound.integrationId, mailboxId));
        assert.equal(rows.length, 3);
        assert.equal(rows.filter((r) => r.status === 'ingested').length, 2);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    await ticketsOf(heidi, 2);
  });
});
