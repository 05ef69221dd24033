// Determinism guard for the Slack workflows: an installation's sync workflow (a ticket's message, an event in the
// thread, the edit after a change made from Slack), a ticket's Slack workflow (a reply and a command from Slack
// applied and answered) and an intake (a ticket made from a Slack modal), recorded from a real round trip against the
// local Slack, replay with today's code. `UPDATE_HISTORY_FIXTURES=1` writes them to test/histories/ as
// the committed fixtures that test/replay.test.ts replays on every run.
import assert from 'node:assert/strict';
import { slackInbound, ticketComments } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { slackIntakeWorkflowId, slackSyncWorkflowId, slackTicketWorkflowId } from '../workflows/slack-contract.ts';
import { createSlackFake } from './fakes/slack/server.ts';
import { freshWorkspace, type SlackFake, useSlackApprover, useSlackEnv } from './slack-support.ts';
import { startTestApi, type TestApi } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { recordHistory, replayHistories } from './support/histories.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

describe('Slack workflow replay', function () {
  this.timeout(120_000);
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

  it('replays an installation’s sync workflow, a ticket’s Slack workflow and an intake recorded from a round trip', async () => {
    const queue = uniqueTaskQueue('slack-replay');
    const temporal = await testTemporal();
    pipeline = await startPipeline(queue);
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    slack.setRequestUrl(`${api.baseUrl}/api/slack/events`);
    const { admin, team, channel, user, integrationId } = await freshWorkspace(api, slack, 'P', [
      'new_ticket',
      'status_change',
    ]);

    const created = await admin.fetch('POST', '/api/tickets', { subject: 'Replay me' });
    const ticket = created.body as { id: string; number: number; version: number };
    const parent = await eventually(
      async () => {
        const found = slack.history(channel).find((m) => m.text?.startsWith(`#${ticket.number} `));
        assert.ok(found);
        return found;
      },
      { timeoutMs: 30_000 },
    );
    await admin.fetch('PATCH', `/api/tickets/${ticket.id}`, { version: ticket.version, status: 'pending' });
    await slack.postAsUser(user, channel, 'Noted from Slack', { threadTs: parent.ts });
    await slack.slashCommand({
      command: '/ticket',
      text: `update ${ticket.number} priority=high`,
      userId: user,
      channelId: channel,
      teamId: team,
    });
    await eventually(
      async () => {
        const [comment] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
        assert.ok(comment);
        assert.ok(slack.thread(channel, parent.ts).some((m) => /Status changed/.test(m.text ?? '')));
        const applied = await db
          .select()
          .from(slackInbound)
          .where(and(eq(slackInbound.ticketId, ticket.id), eq(slackInbound.status, 'applied')));
        assert.equal(applied.length, 2);
      },
      { timeoutMs: 30_000 },
    );

    const posted = await slack.postAsUser(user, channel, 'Make this a ticket');
    await slack.messageShortcut({
      callbackId: 'sb_create_from_message',
      userId: user,
      channelId: channel,
      messageTs: posted.message.ts,
      teamId: team,
    });
    const intake = await eventually(async () => {
      const [row] = await db
        .select()
        .from(slackInbound)
        .where(and(eq(slackInbound.kind, 'create_from_message'), eq(slackInbound.integrationId, integrationId)));
      assert.equal(row?.status, 'applied');
      return row!;
    });
    const intakeHandle = temporal.client.workflow.getHandle(slackIntakeWorkflowId(intake.id));
    await intakeHandle.result();

    const recorded = [
      await recordHistory(temporal.client.workflow.getHandle(slackSyncWorkflowId(integrationId)), 'slack-sync'),
      await recordHistory(
        temporal.client.workflow.getHandle(slackTicketWorkflowId(integrationId, ticket.id)),
        // Its own fixture: test/histories/slack-ticket.json stays the run that also synced event batches, which
        // runs started before the installation's workflow took them must still replay.
        'slack-ticket-inbound',
      ),
      await recordHistory(intakeHandle, 'slack-intake'),
    ];
    assert.deepEqual(
      await replayHistories(await temporal.workflowBundle(), recorded),
      recorded.map((r) => [r.workflowId, undefined]),
    );
  });
});
