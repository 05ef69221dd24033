// A Slack worker killed between Slack's answer to chat.postMessage and our write of the message's ts: the retry,
// in another worker, finds the message its predecessor posted (by the key in its metadata) and records it, so the
// channel shows the ticket once.
import assert from 'node:assert/strict';
import { slackPosts } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { IntegrationDefinition } from '../common/integration-contract.ts';
import { integrations } from '../packages/integrations/index.ts';
import { createSlackFake } from './fakes/slack/server.ts';
import { freshWorkspace, type SlackFake, useSlackApprover, useSlackEnv } from './slack-support.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { TEST_DATABASE_URL, testDatabase } from './support/database.ts';
import { afterRun } from './support/root-hooks.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';
import { spawnWorkerProcess } from './support/worker-process.ts';

describe('Slack: a worker killed between posting and recording', function () {
  this.timeout(180_000);
  const { db } = testDatabase();
  let slack: SlackFake;
  let restoreEnv: () => void;
  let api: TestApi;
  let pipeline: TestPipeline;

  before(async () => {
    slack = await createSlackFake({ preinstall: false });
    restoreEnv = useSlackEnv(slack);
    useSlackApprover(slack);
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
    restoreEnv?.();
    await slack?.close();
  });

  it('posts the ticket once: the next worker finds the message and records it', async () => {
    const queue = uniqueTaskQueue('slack-kill');
    const temporal = await testTemporal();
    pipeline = await startPipeline(queue, {}, {}, {}, withoutSlackWorker(integrations));
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    slack.setRequestUrl(`${api.baseUrl}/api/slack/events`);
    const { admin, channel } = await freshWorkspace(api, slack, 'K', ['new_ticket']);
    const worker = () => slackWorkerProcess(queue, temporal.address, temporal.namespace);
    const first = await worker();

    // A first ticket, so the worker has joined the channel: the next ticket's first call is its post.
    const ticketIn = async (subject: string) => {
      const created = await admin.fetch('POST', '/api/tickets', { subject });
      assert.equal(created.status, 201);
      return created.body as { id: string; number: number };
    };
    const warm = await ticketIn('Warm-up');
    const parents = (number: number) => slack.history(channel).filter((m) => m.text?.startsWith(`#${number} `));
    await eventually(async () => assert.equal(parents(warm.number).length, 1), { timeoutMs: 30_000 });

    slack.pause();
    const ticket = await ticketIn('Posted, then the worker died');
    await eventually(
      async () => {
        const [row] = await db
          .select()
          .from(slackPosts)
          .where(and(eq(slackPosts.ticketId, ticket.id), eq(slackPosts.kind, 'parent')));
        assert.ok(row, 'the post is on its way');
      },
      { timeoutMs: 30_000, intervalMs: 20 },
    );
    await new Promise((r) => setTimeout(r, 500));
    await first.kill();
    // Slack goes on with the held request: the message is posted, its answer goes to a dead worker.
    slack.resume();
    await eventually(async () => assert.equal(parents(ticket.number).length, 1));
    const [unrecorded] = await db.select().from(slackPosts).where(eq(slackPosts.ticketId, ticket.id));
    assert.equal(unrecorded!.ts, null, 'the dead worker never recorded it');

    await worker();
    const recorded = await eventually(
      async () => {
        const [row] = await db.select().from(slackPosts).where(eq(slackPosts.ticketId, ticket.id));
        assert.ok(row?.ts, 'recorded by the retry');
        return row;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    assert.equal(recorded.ts, parents(ticket.number)[0]!.ts);
    assert.equal(parents(ticket.number).length, 1, 'posted once');
    assert.ok(
      slack.callsTo('conversations.history').some((c) => c.args.channel === channel && c.args.include_all_metadata),
      'the retry looked for its earlier post',
    );
  });
});

/** The product's list, with the Slack module's worker left to a child process (its relay subscriber stays). */
function withoutSlackWorker(list: readonly IntegrationDefinition[]): IntegrationDefinition[] {
  return list.map((definition) =>
    definition.type !== 'slack'
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

async function slackWorkerProcess(queue: string, address: string, namespace: string) {
  const worker = await spawnWorkerProcess({
    script: 'test/support/module-worker-process.ts',
    env: {
      SWITCHBOARD_TEST_MODULE: 'slack',
      SWITCHBOARD_TEST_TEMPORAL_ADDRESS: address,
      SWITCHBOARD_TEST_TEMPORAL_NAMESPACE: namespace,
      SWITCHBOARD_TEST_QUEUE: queue,
      SWITCHBOARD_TEST_DATABASE_URL: TEST_DATABASE_URL,
    },
    readyLine: 'slack worker running',
  });
  afterRun(() => worker.kill());
  return worker;
}
