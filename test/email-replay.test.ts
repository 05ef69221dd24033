// Determinism guard for the email workflows: a mailbox reader's and an organisation outbox's histories, recorded from
// a real round trip, replay with today's code. `UPDATE_HISTORY_FIXTURES=1` writes them to test/histories/ as the
// committed fixtures that test/replay.test.ts replays on every run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { customers, supportRequests, ticketEmails } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { emailMailboxWorkflowId, emailOutboxWorkflowId } from '../workflows/email-contract.ts';
import { awaitMail, createMailbox, sendAsCustomer } from './email-support.ts';
import { createTestOrganization, startTestApi, type TestApi } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { ensureFileServices } from './support/file-services.ts';
import { recordHistory, replayHistories } from './support/histories.ts';
import { addMailUser, ensureMailServices } from './support/mail-services.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

const PASSWORD = 'mail-test-password';

describe('email workflow replay', function () {
  this.timeout(120_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline;

  before(async () => {
    await Promise.all([ensureMailServices(), ensureFileServices()]);
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
  });

  it('replays a mailbox reader and an outbox recorded from a round trip', async () => {
    const queue = uniqueTaskQueue('email-replay');
    const temporal = await testTemporal();
    pipeline = await startPipeline(queue);
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    const run = randomUUID().slice(0, 8);
    const support = `replay-${run}@support.test`;
    const ivan = `ivan-${run}@pass.test`;
    await addMailUser(support, PASSWORD);
    await addMailUser(ivan, PASSWORD);
    const admin = await createTestOrganization({ role: 'admin', api });
    const mailboxId = await createMailbox(admin, { address: support, password: PASSWORD });
    await sendAsCustomer({ from: ivan, to: support, subject: 'Replay me', text: 'Hello.' });
    const ticket = await eventually(
      async () => {
        const [row] = await db
          .select({ id: supportRequests.id })
          .from(supportRequests)
          .innerJoin(customers, eq(customers.id, supportRequests.requesterId))
          .where(eq(customers.email, ivan));
        assert.ok(row);
        return row;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await admin.fetch('POST', `/api/tickets/${ticket.id}/comments`, { body: 'Answer one', isPublic: true });
    await admin.fetch('POST', `/api/tickets/${ticket.id}/comments`, { body: 'Answer two', isPublic: true });
    await awaitMail(ivan, PASSWORD, (m) => m.source.toString().includes('Answer two'));
    await eventually(async () => {
      const sent = await db
        .select()
        .from(ticketEmails)
        .where(and(eq(ticketEmails.supportRequestId, ticket.id), eq(ticketEmails.status, 'sent')));
      assert.equal(sent.length, 2);
    });

    const recorded = [
      await recordHistory(temporal.client.workflow.getHandle(emailMailboxWorkflowId(mailboxId)), 'email-mailbox'),
      // The per-ticket thread sender's fixture (email-thread.json) was recorded before the outbox and stays as it is.
      await recordHistory(
        temporal.client.workflow.getHandle(emailOutboxWorkflowId(admin.organizationId)),
        'email-outbox',
      ),
    ];
    assert.deepEqual(
      await replayHistories(await temporal.workflowBundle(), recorded),
      recorded.map((r) => [r.workflowId, undefined]),
    );
  });
});
