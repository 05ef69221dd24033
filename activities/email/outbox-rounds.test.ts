// The outbox round under the conditions a real deployment meets and the happy path does not: a round retried while
// its first attempt still sends, a mail server that answers slowly or not at all, a worker whose clock is off, a row
// that becomes due while the round runs. Each mailbox here points at a small SMTP server of the test's own (it can
// greet late, or never), so what the round did shows in the rows and in what the server accepted.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { integrationOutcomeMinutes, ticketComments, ticketEmails } from '@switchboard/database';
import { MockActivityEnvironment } from '@temporalio/testing';
import { asc, eq, inArray, sum } from 'drizzle-orm';
import { makeOrganization, type TestOrganization } from '../../domain/test-fixtures.ts';
import { addComment } from '../../domain/tickets/comments.ts';
import { createTicket } from '../../domain/tickets/create-ticket.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createOutboxActivities, type OutboxRoundResult } from './outbox.ts';
import { RETRY_FIRST_MS, TICKETS_AT_ONCE_PER_MAILBOX } from './outbox-plan.ts';
import { loopbackSendDeps, sendingMailbox } from './outbox-test-support.ts';
import { closeTransports, createSendActivities, type SendDeps } from './send.ts';

/** Nothing listens here: connecting is refused at once, the case of a mail server that is down. */
const DEAD_PORT = 1;

type FakeSmtp = { port: number; connections: number; accepted: number; close: () => void };

/** An SMTP server that greets after `greetMs` (never when null), then accepts every message. */
function fakeSmtp(greetMs: number | null): Promise<FakeSmtp> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    fake.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (greetMs === null) return;
    setTimeout(() => socket.writable && socket.write('220 fake.test ESMTP\r\n'), greetMs);
    let data = false;
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data) {
          if (line === '.') {
            data = false;
            fake.accepted++;
            socket.write('250 2.0.0 queued\r\n');
          }
        } else if (/^EHLO/i.test(line)) socket.write('250-fake.test\r\n250 8BITMIME\r\n');
        else if (/^DATA/i.test(line)) {
          data = true;
          socket.write('354 go on\r\n');
        } else if (/^QUIT/i.test(line)) socket.end('221 bye\r\n');
        else socket.write('250 ok\r\n');
      }
    });
  });
  const fake: FakeSmtp = {
    port: 0,
    connections: 0,
    accepted: 0,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      fake.port = (server.address() as net.AddressInfo).port;
      resolve(fake);
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('email outbox rounds', function () {
  this.timeout(60_000);
  const { db } = testDatabase();
  const depsWith = (timeoutMs: number) => loopbackSendDeps(db, timeoutMs);
  const deps = depsWith(20_000);
  const servers: FakeSmtp[] = [];
  const server = async (greetMs: number | null) => {
    const fake = await fakeSmtp(greetMs);
    servers.push(fake);
    return fake;
  };
  afterEach(() => {
    closeTransports();
    for (const fake of servers.splice(0)) fake.close();
  });

  const round = (
    organizationId: string,
    options: {
      tickets?: { ticketId: string; commentIds: string[] }[];
      env?: MockActivityEnvironment;
      deps?: SendDeps;
    } = {},
  ): Promise<OutboxRoundResult> =>
    (options.env ?? new MockActivityEnvironment()).run(createOutboxActivities(options.deps ?? deps).sendOutboxRound, {
      organizationId,
      tickets: options.tickets ?? [],
    });

  const mailbox = (org: TestOrganization, port: number) =>
    sendingMailbox(db, org.organizationId, { host: '127.0.0.1', port });

  /** A ticket whose customer wrote to the mailbox (so an agent's public comment becomes a reply). */
  async function emailTicket(org: TestOrganization, box: { id: string; address: string }) {
    const ticket = await createTicket(db, org.scope, { subject: 'Question', requesterEmail: 'customer@pass.test' });
    await db.insert(ticketEmails).values({
      organizationId: org.organizationId,
      supportRequestId: ticket.id,
      integrationId: box.id,
      messageId: `${randomUUID()}@pass.test`,
      direction: 'inbound',
      status: 'received',
      kind: 'message',
      fromAddress: 'customer@pass.test',
      toAddresses: [box.address],
      subject: 'Question',
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    return ticket;
  }

  /** A queued row (as a composer send writes it) on a new ticket, or on `ticketId`. */
  async function queued(
    org: TestOrganization,
    box: { id: string; address: string },
    options: { ticketId?: string; createdAt?: Date } = {},
  ) {
    const ticketId =
      options.ticketId ??
      (await createTicket(db, org.scope, { subject: 'Q', requesterEmail: 'customer@pass.test' })).id;
    const id = randomUUID();
    await db.insert(ticketEmails).values({
      id,
      organizationId: org.organizationId,
      supportRequestId: ticketId,
      integrationId: box.id,
      messageId: `${id}@support.test`,
      direction: 'outbound',
      status: 'queued',
      kind: 'reply',
      fromAddress: box.address,
      toAddresses: ['customer@pass.test'],
      subject: 'Re: Q',
      content: 'hello',
      sourceKey: `compose:${id}`,
      ...(options.createdAt ? { createdAt: options.createdAt } : {}),
    });
    return { id, ticketId };
  }

  const row = async (id: string) => (await db.select().from(ticketEmails).where(eq(ticketEmails.id, id)))[0]!;

  it('reports a row that became due while the round ran as due now, so the workflow does not sleep through it', async () => {
    const org = await makeOrganization();
    const slow = await server(3_000);
    const dead = await mailbox(org, DEAD_PORT); // refused at once: waits RETRY_FIRST_MS
    const busy = await mailbox(org, slow.port);
    const early = await queued(org, dead);
    const late = await queued(org, busy);
    // The wait is shortened so that it ends during the slow send (the first backoff is 10 s).
    const env = new MockActivityEnvironment();
    const result = round(org.organizationId, { env });
    await sleep(1_000);
    await db
      .update(ticketEmails)
      .set({ nextAttemptAt: new Date(Date.now() - 1) })
      .where(eq(ticketEmails.id, early.id));
    const { nextDueInMs, more } = await result;

    assert.equal((await row(late.id)).status, 'sent');
    assert.deepEqual([(await row(early.id)).status, (await row(early.id)).attempts], ['queued', 1]);
    assert.equal(more, false);
    assert.ok(nextDueInMs !== null && nextDueInMs <= 0, `due already, not "nothing waits" (${nextDueInMs})`);
  });

  it('sends a row once when a second attempt of the round starts while the first still sends it, and keeps the old thread workflow’s send off it too', async () => {
    const org = await makeOrganization();
    const slow = await server(2_000);
    const box = await mailbox(org, slow.port);
    const email = await queued(org, box);

    const first = round(org.organizationId);
    await sleep(500);
    const second = await round(org.organizationId);
    assert.deepEqual([second.sent, second.waiting], [0, 0]);
    assert.ok(second.nextDueInMs !== null && second.nextDueInMs > 0, 'the ticket waits for the claim');
    await assert.rejects(
      new MockActivityEnvironment().run(createSendActivities(deps).sendEmail, {
        organizationId: org.organizationId,
        emailId: email.id,
      }),
      (error: Error & { type?: string }) => error.type === 'EmailBusy',
    );
    assert.equal((await first).sent, 1);
    assert.equal(slow.accepted, 1);
    const sent = await row(email.id);
    assert.deepEqual([sent.status, sent.attempts, sent.nextAttemptAt], ['sent', 1, null]);
  });

  it('heartbeats while a send takes long, not only after it', async () => {
    const org = await makeOrganization();
    const slow = await server(1_500);
    const box = await mailbox(org, slow.port);
    await queued(org, box);
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    assert.equal((await round(org.organizationId, { env })).sent, 1);
    assert.ok(beats >= 5, `${beats} heartbeats in 1.5 s`);
  });

  it('starts no further send once the round was cancelled (a retry has taken over)', async () => {
    const org = await makeOrganization();
    const slow = await server(1_500);
    const box = await mailbox(org, slow.port);
    const first = await queued(org, box, { createdAt: new Date(Date.now() - 2_000) });
    const second = await queued(org, box, { ticketId: first.ticketId });
    const env = new MockActivityEnvironment();
    const result = round(org.organizationId, { env }).catch((error: unknown) => error);
    await sleep(300);
    env.cancel();
    await result;
    assert.equal((await row(first.id)).status, 'sent', 'the send under way finishes');
    const left = await row(second.id);
    assert.deepEqual([left.status, left.attempts, left.nextAttemptAt], ['queued', 0, null], 'the next is not started');
    assert.equal(slow.accepted, 1);
  });

  it('gives a mailbox whose server hangs its own lanes only, and leaves it alone in later rounds while the others send', async () => {
    const org = await makeOrganization();
    const hung = await server(null);
    const live = await server(0);
    const stuck = await mailbox(org, hung.port);
    const fine = await mailbox(org, live.port);
    const stuckRows = [];
    for (let i = 0; i < 25; i++) stuckRows.push(await queued(org, stuck));
    const fineRow = await queued(org, fine);
    const fast = depsWith(1_000); // the greeting is given up after 1 s

    // All announced: the stuck mailbox's tickets first, more of them than the round's announced lanes.
    const announced = [...stuckRows, fineRow].map((r) => ({ ticketId: r.ticketId, commentIds: [] }));
    const first = await round(org.organizationId, { tickets: announced, deps: fast });
    assert.equal(first.sent, 1);
    assert.equal((await row(fineRow.id)).status, 'sent');
    const rows = await db
      .select()
      .from(ticketEmails)
      .where(
        inArray(
          ticketEmails.id,
          stuckRows.map((r) => r.id),
        ),
      );
    const tried = rows.filter((r) => r.attempts > 0).length;
    assert.ok(tried >= 1 && tried <= TICKETS_AT_ONCE_PER_MAILBOX, `${tried} rows tried on the hung mailbox`);
    // The untried ones wait with the mailbox, visibly.
    assert.ok(rows.every((r) => r.status === 'queued' && r.nextAttemptAt && r.nextAttemptAt.getTime() > Date.now()));
    assert.ok(rows.every((r) => /^retrying: .*no answer in time|Greeting/i.test(r.failureReason ?? '')));

    // The next round (new mail for the healthy mailbox) does not go near the hung one.
    const connections = hung.connections;
    const next = await queued(org, fine);
    const second = await round(org.organizationId, { deps: fast });
    assert.deepEqual([second.sent, second.waiting], [1, 0]);
    assert.equal((await row(next.id)).status, 'sent');
    assert.equal(hung.connections, connections);
    assert.ok(second.nextDueInMs !== null && second.nextDueInMs > 0 && second.nextDueInMs <= RETRY_FIRST_MS);
  });

  it('sets a waiting row’s next attempt by the database’s clock, whatever the worker’s says', async () => {
    const org = await makeOrganization();
    const dead = await mailbox(org, DEAD_PORT);
    const email = await queued(org, dead);
    const realNow = Date.now;
    Date.now = () => realNow() + 60 * 60_000; // the worker's clock an hour ahead
    let result: OutboxRoundResult;
    try {
      result = await round(org.organizationId);
    } finally {
      Date.now = realNow;
    }
    const waiting = await row(email.id);
    const inMs = waiting.nextAttemptAt!.getTime() - Date.now();
    assert.ok(inMs > RETRY_FIRST_MS - 2_000 && inMs <= RETRY_FIRST_MS, `next attempt in ${inMs} ms`);
    assert.ok(result.nextDueInMs! > RETRY_FIRST_MS - 2_000 && result.nextDueInMs! <= RETRY_FIRST_MS);
  });

  it('counts every send on the mailbox’s health, not one per round', async () => {
    const org = await makeOrganization();
    const live = await server(0);
    const box = await mailbox(org, live.port);
    for (let i = 0; i < 3; i++) await queued(org, box);
    assert.equal((await round(org.organizationId)).sent, 3);
    const [counted] = await db
      .select({ successes: sum(integrationOutcomeMinutes.successes), errors: sum(integrationOutcomeMinutes.errors) })
      .from(integrationOutcomeMinutes)
      .where(eq(integrationOutcomeMinutes.integrationId, box.id));
    assert.deepEqual([Number(counted!.successes), Number(counted!.errors)], [3, 0]);
  });

  it('queues a reply as of when its comment was written, so it leaves (and threads) before mail queued after it', async () => {
    const org = await makeOrganization();
    const live = await server(0);
    const box = await mailbox(org, live.port);
    const ticket = await emailTicket(org, box);
    const comment = await addComment(db, org.scope, ticket.id, { body: 'Written first', isPublic: true });
    const writtenAt = new Date(Date.now() - 60_000);
    await db.update(ticketComments).set({ createdAt: writtenAt }).where(eq(ticketComments.id, comment.id));
    // A composer send written after the comment, before the round got to the comment.
    const after = await queued(org, box, { ticketId: ticket.id, createdAt: new Date(Date.now() - 30_000) });

    await round(org.organizationId, { tickets: [{ ticketId: ticket.id, commentIds: [comment.id] }] });
    const outbound = (
      await db
        .select()
        .from(ticketEmails)
        .where(eq(ticketEmails.supportRequestId, ticket.id))
        .orderBy(asc(ticketEmails.createdAt))
    ).filter((r) => r.direction === 'outbound');
    assert.deepEqual(
      outbound.map((r) => [r.commentId ?? r.id, r.status]),
      [
        [comment.id, 'sent'],
        [after.id, 'sent'],
      ],
    );
    assert.equal(outbound[0]!.createdAt.getTime(), writtenAt.getTime());
    assert.equal(outbound[1]!.inReplyTo, outbound[0]!.messageId, 'the later mail answers the reply');
    assert.ok(outbound[1]!.sentAt! >= outbound[0]!.sentAt!);
  });

  it('hands back the comments of a ticket whose reply could not be queued, and sends the other tickets’ mail', async () => {
    const org = await makeOrganization();
    const live = await server(0);
    const box = await mailbox(org, live.port);
    const broken = await emailTicket(org, box);
    const other = await queued(org, box);
    const result = await round(org.organizationId, {
      // Not an id the database takes: queueing it fails with a database error, not a gone ticket.
      tickets: [
        { ticketId: broken.id, commentIds: ['not-a-comment-id'] },
        { ticketId: other.ticketId, commentIds: [] },
      ],
    });
    assert.deepEqual(result.unqueued, [{ ticketId: broken.id, commentIds: ['not-a-comment-id'] }]);
    assert.equal(result.sent, 1);
    assert.equal((await row(other.id)).status, 'sent');
  });
});
