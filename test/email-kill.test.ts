// A mailbox reader killed in the middle of a fetch (SIGKILL: no shutdown, its position never reported to the
// workflow) loses nothing and doubles nothing: the next worker resumes from the heartbeated UID, and whatever it
// reads again is filed once (the ledger's Message-ID key).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { customers, emailInbound, supportRequests, ticketEmails } from '@switchboard/database';
import { count, eq } from 'drizzle-orm';
import nodemailer from 'nodemailer';
import type { IntegrationDefinition } from '../common/integration-contract.ts';
import { integrations } from '../packages/integrations/index.ts';
import { createMailbox } from './email-support.ts';
import { createTestOrganization, startTestApi, type TestApi } from './support/api.ts';
import { TEST_DATABASE_URL, testDatabase } from './support/database.ts';
import { ensureFileServices } from './support/file-services.ts';
import { addMailUser, ensureMailServices, testMailServices } from './support/mail-services.ts';
import { afterRun } from './support/root-hooks.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';
import { spawnWorkerProcess } from './support/worker-process.ts';

const PASSWORD = 'mail-test-password';
const MESSAGES = 150;

describe('email: a mailbox reader killed mid-fetch', function () {
  this.timeout(180_000);
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

  it('files every message exactly once after the worker is killed and another takes over', async () => {
    const queue = uniqueTaskQueue('email-kill');
    const temporal = await testTemporal();
    // The relay and the other workers run here; the email worker runs in a child process that the test kills.
    pipeline = await startPipeline(queue, {}, {}, {}, withoutEmailWorker(integrations));
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    const run = randomUUID().slice(0, 8);
    const support = `kill-${run}@support.test`;
    await addMailUser(support, PASSWORD);

    // The mailbox is full before the reader starts: it reads a long batch, and dies in the middle of it.
    const transport = nodemailer.createTransport({
      pool: true,
      host: testMailServices.smtp.host,
      port: testMailServices.smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    for (let i = 0; i < MESSAGES; i++)
      await transport.sendMail({
        from: `customer${i}-${run}@pass.test`,
        to: support,
        subject: `Question ${i}`,
        text: `Message number ${i}.`,
      });
    transport.close();

    const first = await emailWorkerProcess(queue, temporal.address, temporal.namespace);
    const admin = await createTestOrganization({ role: 'admin', api });
    const mailboxId = await createMailbox(admin, { address: support, password: PASSWORD });
    const filed = async () =>
      (await db.select({ n: count() }).from(emailInbound).where(eq(emailInbound.integrationId, mailboxId)))[0]!.n;
    await eventually(
      async () => {
        const n = await filed();
        assert.ok(n >= 10, `only ${n} filed`);
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
    await first.kill();
    const atKill = await filed();
    assert.ok(atKill < MESSAGES, `the reader finished (${atKill}) before it could be killed`);

    await emailWorkerProcess(queue, temporal.address, temporal.namespace);
    await eventually(
      async () => {
        assert.equal(await filed(), MESSAGES);
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const tickets = await db
      .select({ id: supportRequests.id })
      .from(supportRequests)
      .innerJoin(customers, eq(customers.id, supportRequests.requesterId))
      .where(eq(supportRequests.organizationId, admin.organizationId));
    assert.equal(tickets.length, MESSAGES, 'one ticket per message: none lost, none doubled');
    const emails = await db
      .select({ n: count() })
      .from(ticketEmails)
      .where(eq(ticketEmails.organizationId, admin.organizationId));
    assert.equal(emails[0]!.n, MESSAGES);
  });
});

/** The product's list, with the email module's worker left to a child process (its relay subscriber stays). */
function withoutEmailWorker(list: readonly IntegrationDefinition[]): IntegrationDefinition[] {
  return list.map((definition) =>
    definition.type !== 'email'
      ? definition
      : {
          ...definition,
          server: async () => {
            const { workers: _workers, ...rest } = await definition.server();
            return rest;
          },
        },
  );
}

async function emailWorkerProcess(queue: string, address: string, namespace: string) {
  const worker = await spawnWorkerProcess({
    script: 'test/support/module-worker-process.ts',
    env: {
      SWITCHBOARD_TEST_MODULE: 'email',
      SWITCHBOARD_TEST_TEMPORAL_ADDRESS: address,
      SWITCHBOARD_TEST_TEMPORAL_NAMESPACE: namespace,
      SWITCHBOARD_TEST_QUEUE: queue,
      SWITCHBOARD_TEST_DATABASE_URL: TEST_DATABASE_URL,
    },
    readyLine: 'email worker running',
  });
  afterRun(() => worker.kill());
  return worker;
}
