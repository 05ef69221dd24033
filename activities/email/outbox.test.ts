// The outbox: how the relay announces mail to send (one signal per organisation and batch, ids only), and what one
// round of the outbox activity does with it against the real OpenSMTPD of the email tests (replies in the order
// written, threaded; a ticket whose server cannot be reached waits, visibly, without holding the others).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, ticketEmails, ticketEvents } from '@switchboard/database';
import { MockActivityEnvironment } from '@temporalio/testing';
import { asc, eq, inArray } from 'drizzle-orm';
import type { RelayContext } from '../../common/integration-contract.ts';
import type { DispatchedTicketEvent, TicketEventType } from '../../common/ticket-events.ts';
import { relayIntegrations } from '../../domain/integrations/read-integrations.ts';
import { makeOrganization, type TestOrganization } from '../../domain/test-fixtures.ts';
import { addComment } from '../../domain/tickets/comments.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import { testDatabase } from '../../test/support/database.ts';
import { addMailUser, ensureMailServices, testMailServices } from '../../test/support/mail-services.ts';
import type { EmailOutboxWork } from '../../workflows/email-contract.ts';
import { createOutboxActivities, type OutboxRoundResult } from './outbox.ts';
import { RETRY_FIRST_MS } from './outbox-plan.ts';
import { loopbackSendDeps, sendingMailbox } from './outbox-test-support.ts';
import { emailRelaySubscriber } from './relay-subscriber.ts';
import { closeTransports } from './send.ts';

const PASSWORD = 'mail-test-password';
/** Nothing listens here: connecting is refused at once, the case of a mail server that is down. */
const DEAD_PORT = 1;

describe('email outbox', function () {
  this.timeout(60_000);
  const { db } = testDatabase();
  const deps = loopbackSendDeps(db, 5_000);
  const { sendOutboxRound } = createOutboxActivities(deps);
  let run: string;

  before(async () => {
    await ensureMailServices();
  });
  beforeEach(() => {
    run = randomUUID().slice(0, 8);
  });
  after(() => closeTransports());

  const mailbox = (org: TestOrganization, port: number = testMailServices.smtp.port) =>
    sendingMailbox(db, org.organizationId, { host: testMailServices.smtp.host, port });

  /** A ticket opened by a customer's mail to the mailbox (the row a reply threads on). */
  async function emailTicket(org: TestOrganization, box: { id: string; address: string }, name: string) {
    const customer = `${name}-${run}@pass.test`;
    await addMailUser(customer, PASSWORD);
    const ticket = await createTicket(db, org.scope, { subject: `Question of ${name}`, requesterEmail: customer });
    const messageId = `${randomUUID()}@pass.test`;
    await db.insert(ticketEmails).values({
      organizationId: org.organizationId,
      supportRequestId: ticket.id,
      integrationId: box.id,
      messageId,
      direction: 'inbound',
      status: 'received',
      kind: 'message',
      fromAddress: customer,
      toAddresses: [box.address],
      subject: `Question of ${name}`,
    });
    return { ...ticket, customer, messageId };
  }

  const answer = async (org: TestOrganization, ticketId: string, body: string) =>
    (await addComment(db, org.scope, ticketId, { body, isPublic: true })).id;

  const round = (organizationId: string, tickets: EmailOutboxWork['tickets'] = []): Promise<OutboxRoundResult> =>
    new MockActivityEnvironment().run(sendOutboxRound, { organizationId, tickets });

  const outbound = (ticketId: string) =>
    db
      .select()
      .from(ticketEmails)
      .where(eq(ticketEmails.supportRequestId, ticketId))
      .orderBy(asc(ticketEmails.createdAt), asc(ticketEmails.id))
      .then((rows) => rows.filter((r) => r.direction === 'outbound'));

  it('announces the comments of several tickets of a relay batch in one signal to the organisation’s outbox, ids only', async () => {
    const org = await makeOrganization();
    const box = await mailbox(org);
    const first = await emailTicket(org, box, 'ann');
    const second = await emailTicket(org, box, 'bob');
    // No email thread: its comment sends no mail, so it is not announced.
    const plain = await createTicket(db, org.scope, { subject: 'By phone' });
    const other = await makeOrganization(); // no mailbox: costs nothing
    const elsewhere = await createTicket(db, other.scope, { subject: 'Elsewhere' });
    const comments = [
      await answer(org, first.id, 'One'),
      await answer(org, first.id, 'Two'),
      await answer(org, second.id, 'Three'),
    ];
    await answer(org, plain.id, 'Not by mail');
    await answer(other, elsewhere.id, 'Not by mail either');
    await addComment(db, org.scope, second.id, { body: 'Internal', isPublic: false });

    const events = await batchOf([first.id, second.id, plain.id, elsewhere.id]);
    const signals: Array<{ type: string; options: Record<string, unknown> }> = [];
    const ctx = {
      db,
      ticketsTaskQueue: 'tickets',
      deadline: () => Date.now() + 5_000,
      ...relayIntegrations(
        db,
        events.map((e) => e.organizationId),
        ['email'],
      ),
      temporal: {
        connection: { withDeadline: (_deadline: number, call: () => Promise<unknown>) => call() },
        workflow: {
          signalWithStart: async (type: string, options: Record<string, unknown>) => {
            signals.push({ type, options });
          },
        },
      },
    } as unknown as RelayContext;
    const sends = await emailRelaySubscriber().plan(events, ctx);
    assert.deepEqual(
      sends.map((s) => [s.target, s.ticketIds]),
      [[`email-outbox/${org.organizationId}`, [first.id, second.id]]],
    );
    for (const send of sends) await send.send();
    assert.equal(signals.length, 1);
    assert.equal(signals[0]!.type, 'emailOutboxWorkflow');
    assert.equal(signals[0]!.options.workflowId, `email-outbox/${org.organizationId}`);
    assert.deepEqual(signals[0]!.options.args, [{ organizationId: org.organizationId }]);
    assert.deepEqual(signals[0]!.options.signalArgs, [
      {
        tickets: [
          { ticketId: first.id, commentIds: comments.slice(0, 2) },
          { ticketId: second.id, commentIds: comments.slice(2) },
        ],
      },
    ]);
  });

  it('sends one ticket’s replies in the order they were written, each answering the one before', async () => {
    const org = await makeOrganization();
    const box = await mailbox(org);
    const ticket = await emailTicket(org, box, 'carol');
    const comments = [
      await answer(org, ticket.id, 'First'),
      await answer(org, ticket.id, 'Second'),
      await answer(org, ticket.id, 'Third'),
    ];

    const result = await round(org.organizationId, [{ ticketId: ticket.id, commentIds: comments }]);
    assert.deepEqual(result, {
      more: false,
      nextDueInMs: null,
      sent: 3,
      failed: 0,
      waiting: 0,
      unqueued: [],
    });
    const rows = await outbound(ticket.id);
    assert.deepEqual(
      rows.map((r) => [r.content, r.status, r.sourceKey, r.subject]),
      comments.map((id, i) => [
        ['First', 'Second', 'Third'][i],
        'sent',
        `comment:${id}`,
        `Re: [#${ticket.number}] Question of carol`,
      ]),
    );
    // Each reply's In-Reply-To is the mail sent just before it: the earlier one was out when the next one left.
    assert.deepEqual(
      rows.map((r) => r.inReplyTo),
      [ticket.messageId, rows[0]!.messageId, rows[1]!.messageId],
    );
    assert.deepEqual(rows[2]!.references, [ticket.messageId, rows[0]!.messageId, rows[1]!.messageId]);
    assert.ok(rows.every((r) => r.replyToAddress?.startsWith(box.address.split('@')[0]!)));
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.sentAt! >= rows[i - 1]!.sentAt!);

    // A retried round (the same comments again) queues nothing twice and sends nothing twice.
    const again = await round(org.organizationId, [{ ticketId: ticket.id, commentIds: comments }]);
    assert.equal(again.sent, 0);
    assert.equal((await outbound(ticket.id)).length, 3);
  });

  it('lets a ticket whose mail server cannot be reached wait, visibly, while another ticket’s mail goes out, and sends it in order once due', async () => {
    const org = await makeOrganization();
    const live = await mailbox(org);
    const down = await mailbox(org, DEAD_PORT);
    const waiting = await emailTicket(org, down, 'dave');
    const going = await emailTicket(org, live, 'erin');
    const waitingComments = [await answer(org, waiting.id, 'Later one'), await answer(org, waiting.id, 'Later two')];
    const goingComment = await answer(org, going.id, 'Now');

    const before = Date.now();
    const first = await round(org.organizationId, [
      { ticketId: waiting.id, commentIds: waitingComments },
      { ticketId: going.id, commentIds: [goingComment] },
    ]);
    assert.equal(first.sent, 1);
    assert.equal(first.waiting, 1);
    assert.deepEqual(
      (await outbound(going.id)).map((r) => r.status),
      ['sent'],
    );
    const [failedOnce, behind] = await outbound(waiting.id);
    assert.equal(failedOnce!.status, 'queued');
    assert.equal(failedOnce!.attempts, 1);
    assert.match(failedOnce!.failureReason ?? '', /^retrying: .*connection refused/);
    const due = failedOnce!.nextAttemptAt!.getTime();
    assert.ok(due >= before + RETRY_FIRST_MS && due <= Date.now() + RETRY_FIRST_MS, 'waits the first backoff');
    const dueIn = first.nextDueInMs!;
    assert.ok(Math.abs(Date.now() + dueIn - due) < 2_000, 'the workflow sleeps until then');
    // The later reply waits behind it, untried; it goes through the same mailbox, which waits as a whole.
    assert.deepEqual([behind!.status, behind!.attempts], ['queued', 0]);
    assert.equal(behind!.nextAttemptAt?.getTime(), due);
    const [health] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, down.id));
    assert.match(health!.lastError ?? '', /connection refused; replies wait and are retried \(attempt 1, next at /);

    // Before it is due, a round leaves the ticket alone.
    const early = await round(org.organizationId);
    assert.deepEqual([early.sent, early.waiting], [0, 0]);
    assert.equal((await outbound(waiting.id))[0]!.attempts, 1);

    // The server is back (the mailbox now points at it) and the wait is over: both leave, in order.
    await db
      .update(integrationConfigs)
      .set({
        config: {
          address: down.address,
          smtp: { host: testMailServices.smtp.host, port: testMailServices.smtp.port, security: 'none' },
        },
      })
      .where(eq(integrationConfigs.id, down.id));
    await db
      .update(ticketEmails)
      .set({ nextAttemptAt: new Date(Date.now() - 1000) })
      .where(inArray(ticketEmails.id, [failedOnce!.id, behind!.id]));
    const later = await round(org.organizationId);
    assert.deepEqual([later.sent, later.waiting, later.nextDueInMs], [2, 0, null]);
    const rows = await outbound(waiting.id);
    assert.deepEqual(
      rows.map((r) => [r.content, r.status, r.failureReason, r.nextAttemptAt]),
      [
        ['Later one', 'sent', null, null],
        ['Later two', 'sent', null, null],
      ],
    );
    assert.equal(rows[1]!.inReplyTo, rows[0]!.messageId);
  });

  it('fails a reply the server refuses for good (5xx) and sends the ticket’s next one', async () => {
    const org = await makeOrganization();
    const box = await mailbox(org);
    const ticket = await emailTicket(org, box, 'frank');
    // A composer send to an address the server does not know (550 at RCPT TO), queued before the agent's answer.
    const id = randomUUID();
    await db.insert(ticketEmails).values({
      id,
      organizationId: org.organizationId,
      supportRequestId: ticket.id,
      integrationId: box.id,
      messageId: `${id}@support.test`,
      direction: 'outbound',
      status: 'queued',
      kind: 'reply',
      fromAddress: box.address,
      toAddresses: [`ghost-${run}@pass.test`],
      subject: 'Re: nobody',
      content: 'To nobody',
      sourceKey: `compose:${id}`,
    });
    const accepted = await answer(org, ticket.id, 'To frank');

    const result = await round(org.organizationId, [{ ticketId: ticket.id, commentIds: [accepted] }]);
    assert.deepEqual([result.sent, result.failed, result.waiting], [1, 1, 0]);
    const rows = await outbound(ticket.id);
    assert.deepEqual(
      rows.map((r) => [r.content, r.status]),
      [
        ['To nobody', 'failed'],
        ['To frank', 'sent'],
      ],
    );
    assert.match(rows[0]!.failureReason ?? '', /refused/);
  });

  async function batchOf(ticketIds: string[]): Promise<DispatchedTicketEvent[]> {
    const rows = await db
      .select()
      .from(ticketEvents)
      .where(inArray(ticketEvents.supportRequestId, ticketIds))
      .orderBy(asc(ticketEvents.id));
    return rows.map((r) => ({
      id: r.id,
      organizationId: r.organizationId,
      ticketId: r.supportRequestId,
      type: r.type as TicketEventType,
      payload: r.payload,
      actor: { type: r.actorType, id: r.actorId },
      createdAt: r.createdAt.toISOString(),
    }));
  }
});
