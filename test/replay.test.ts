// Determinism guard: today's workflow code must replay the histories that earlier code wrote, or every running
// ticket workflow would fail after a deploy. Committed fixtures catch a change that breaks old histories; fresh
// recordings cover the paths the fixtures may not (continue-as-new, the SLA watch's timers and re-plans).
// `UPDATE_HISTORY_FIXTURES=1 mocha test/replay.test.ts` rewrites the fixtures from a fresh run.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ticketEvents } from '@switchboard/database';
import type { WorkflowHandle } from '@temporalio/client';
import protos from '@temporalio/proto';
import { type ReplayHistoriesIterable, Worker } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { enqueueDeliveries } from '../activities/webhooks/enqueue.ts';
import { deliveriesOf, makeEndpoint, setWebhookPolicy, syntheticEvent } from '../activities/webhooks/test-support.ts';
import { dispatchEndpoints, wakeEndpoint } from '../activities/webhooks/wake.ts';
import { temporalDataConverter } from '../common/temporal-client.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { updateTicket } from '../domain/tickets/update-ticket.ts';
import { loadServiceConfig } from '../packages/integrations/index.ts';
import { webhookSettings } from '../packages/integrations/webhooks/settings.ts';
import { workflowIds, workflowTypes } from '../temporal-config/index.ts';
import { type TicketWorkflowInput, ticketEventSignal, ticketStateQuery } from '../workflows/messages.ts';
import {
  webhookDispatcherWorkflowId,
  webhookEndpointWorkflowId,
  webhooksTaskQueueFor,
} from '../workflows/webhook-endpoint-contract.ts';
import { behaviours, startReceiver } from './receivers/webhook-receiver.ts';
import { testDatabase, truncateAll } from './support/database.ts';
import { eventually, startPipeline, TEST_CODEC_KEYS, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

const HISTORIES = fileURLToPath(new URL('./histories/', import.meta.url));

// The SDK's historyToJSON trips over a second protobufjs copy in node_modules; protobufjs' own object form is exact.
const { History } = protos.temporal.api.history.v1;
type RecordedHistory = { workflowId: string; history: protos.temporal.api.history.v1.IHistory };

describe('workflow replay', function () {
  this.timeout(120_000);

  async function replay(histories: RecordedHistory[]) {
    const temporal = await testTemporal();
    const results = Worker.runReplayHistories(
      { workflowBundle: await temporal.workflowBundle(), dataConverter: temporalDataConverter(TEST_CODEC_KEYS) },
      histories as ReplayHistoriesIterable,
    );
    const outcomes: Array<{ workflowId: string; error?: string }> = [];
    for await (const result of results) {
      outcomes.push({ workflowId: result.workflowId, error: result.error ? String(result.error) : undefined });
    }
    return outcomes;
  }

  it('replays the committed histories of the ticket, SLA, webhook endpoint and dispatcher, Linear link, mailbox reader, email outbox and thread, Slack sync, Slack ticket, Slack intake, notification and upload pipeline workflows with the current code', async () => {
    const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: History.fromObject(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8'))),
    }));
    const types = new Set(
      histories.map((h) => h.history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name),
    );
    assert.deepEqual(
      [...types].sort(),
      [
        'emailMailboxWorkflow',
        'emailOutboxWorkflow',
        'emailThreadWorkflow',
        'linearSyncWorkflow',
        'notifyAlertWorkflow',
        'notifyRecipientWorkflow',
        'slaWatchWorkflow',
        'slackIntakeWorkflow',
        'slackSyncWorkflow',
        'slackTicketWorkflow',
        'ticketWorkflow',
        'uploadWorkflow',
        'webhookDispatcherWorkflow',
        'webhookEndpointWorkflow',
      ],
      'fixtures of every workflow are committed',
    );
    const outcomes = await replay(histories);
    assert.deepEqual(
      outcomes.filter((o) => o.error),
      [],
    );
    assert.equal(outcomes.length, histories.length);
  });

  it('replays histories recorded just now: a moved deadline with its warning and breach (through the relay), a ticket workflow run that continued as new', async () => {
    const { db } = testDatabase();
    const temporal = await testTemporal();
    await truncateAll(); // the relay would otherwise first deliver every earlier test file's events
    const pipeline = await startPipeline(uniqueTaskQueue('replay'));
    try {
      const org = await makeOrganization();
      const soon = (s: number) => new Date(Date.now() + s * 1000).toISOString();
      const ticket = await createTicket(db, org.scope, { subject: 'Recorded', firstResponseDueAt: soon(2) });
      const moved = await updateTicket(db, org.scope, ticket.id, {
        version: ticket.version,
        firstResponseDueAt: soon(3),
      });
      await updateTicket(db, org.scope, ticket.id, { version: moved.version, priority: 'high' });
      // The relay signals the watch itself (no ticket workflow in between since the spine's v2).
      const slaHandle = temporal.client.workflow.getHandle(workflowIds.sla(ticket.id));
      await eventually(
        async () => {
          const written = await db
            .select({ type: ticketEvents.type })
            .from(ticketEvents)
            .where(eq(ticketEvents.supportRequestId, ticket.id));
          assert.ok(written.some((r) => r.type === 'sla.breached'));
          assert.equal((await slaHandle.describe()).status.name, 'COMPLETED');
        },
        { timeoutMs: 15_000 },
      );
      const recorded = [
        await record(slaHandle, 'sla-watch'),
        await record(
          await runThatContinuedAsNew(pipeline.worker.worker.options.taskQueue),
          'ticket-workflow-continued',
        ),
      ];
      const outcomes = await replay(recorded);
      assert.deepEqual(
        outcomes.map((o) => [o.workflowId, o.error]),
        recorded.map((r) => [r.workflowId, undefined]),
      );
    } finally {
      await pipeline.stop();
    }
  });

  /**
   * A webhooks worker whose batches do not listen (a listening batch would send a retry itself, without the
   * endpoint's timer), a receiver failing each delivery once, and one delivery to an endpoint retried on `schedule`;
   * `start` sets the workflow going and names it. Once its first run has continued as new and the delivery went
   * out, that run is recorded as `fixture` and replayed.
   */
  async function recordWebhookRun(
    queueName: string,
    retryScheduleMs: number[],
    fixture: string,
    start: (ctx: { endpointId: string; organizationId: string; webhooksQueue: string }) => Promise<string>,
  ) {
    const { db } = testDatabase();
    const temporal = await testTemporal();
    const ticketsQueue = uniqueTaskQueue(queueName);
    const worker = await temporal.startWebhooksWorker({ db, ticketsTaskQueue: ticketsQueue, listen: false });
    const receiver = await startReceiver({ behaviour: behaviours.failTimes(1, 500) });
    try {
      const org = await makeOrganization();
      await setWebhookPolicy(org.organizationId, { retryScheduleMs });
      const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url(`/${queueName}`) });
      const limit = webhookSettings.of(loadServiceConfig()).payloadLimitBytes;
      await enqueueDeliveries(db, syntheticEvent(org.organizationId), limit);
      const workflowId = await start({
        endpointId: endpoint.id,
        organizationId: org.organizationId,
        webhooksQueue: webhooksTaskQueueFor(ticketsQueue),
      });
      const firstRunId = (await temporal.client.workflow.getHandle(workflowId).describe()).runId;
      const first = temporal.client.workflow.getHandle(workflowId, firstRunId);
      await eventually(async () => {
        assert.equal((await first.describe()).status.name, 'CONTINUED_AS_NEW');
        const [delivery] = await deliveriesOf(endpoint.id);
        assert.equal(delivery?.status, 'succeeded');
      });
      const recorded = [await record(first, fixture)];
      const outcomes = await replay(recorded);
      assert.deepEqual(
        outcomes.map((o) => [o.workflowId, o.error]),
        recorded.map((r) => [r.workflowId, undefined]),
      );
    } finally {
      await worker.stop();
      await receiver.close();
    }
  }

  it('replays a webhook endpoint timer run recorded just now: a turn that announces, a hand-back, a retry wait, continue-as-new', async () => {
    // Two turns per run: the first announces the endpoint to the dispatcher, whose batch fails the delivery and
    // hands the endpoint back; the second finds the retry not due yet and waits for it; the run continues as new.
    await recordWebhookRun('replay-webhooks', [0, 500], 'webhook-endpoint-timer', async (ctx) => {
      const temporal = await testTemporal();
      await wakeEndpoint(temporal.client, ctx.endpointId, ctx.organizationId, {
        taskQueue: ctx.webhooksQueue,
        workflow: { batchesPerRun: 2 },
      });
      return webhookEndpointWorkflowId(ctx.endpointId);
    });
  });

  it('replays a webhook dispatcher run recorded just now: a group, a hand-back, an announcement, a drain, continue-as-new', async () => {
    // Two groups per run: the first fails the delivery and hands the endpoint back to its own workflow, whose timer
    // announces it again a second later; the second group starts, the run drains it (cancels it before it ran) and
    // continues as new; the next run sends the delivery.
    await recordWebhookRun('replay-dispatcher', [0, 1_000], 'webhook-dispatcher', async (ctx) => {
      const temporal = await testTemporal();
      await dispatchEndpoints(temporal.client, [{ endpointId: ctx.endpointId, organizationId: ctx.organizationId }], {
        taskQueue: ctx.webhooksQueue,
        workflow: { groupsPerRun: 2 },
      });
      return webhookDispatcherWorkflowId(ctx.webhooksQueue);
    });
  });
});

async function record(handle: WorkflowHandle, fixtureName: string): Promise<RecordedHistory> {
  const history = await handle.fetchHistory();
  if (process.env.UPDATE_HISTORY_FIXTURES === '1') {
    // Bytes as base64 and int64 as strings: readable in review, exact on the way back.
    const json = History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
    writeFileSync(join(HISTORIES, `${fixtureName}.json`), `${JSON.stringify(json, null, 1)}\n`);
  }
  return { workflowId: handle.workflowId, history };
}

/** A ticket workflow allowed two events per run, sent three: its first run ends in continue-as-new. */
async function runThatContinuedAsNew(taskQueue: string): Promise<WorkflowHandle> {
  const temporal = await testTemporal();
  const ticketId = randomUUID();
  const input: TicketWorkflowInput = { ticketId, organizationId: 'org-replay', maxEventsPerRun: 2 };
  let firstRunId: string | undefined;
  for (let id = 1; id <= 3; id++) {
    const handle = await temporal.client.workflow.signalWithStart(workflowTypes.ticket, {
      workflowId: workflowIds.ticket(ticketId),
      taskQueue,
      args: [input],
      signal: ticketEventSignal,
      signalArgs: [
        {
          id,
          organizationId: input.organizationId,
          ticketId,
          type: 'ticket.assigned',
          payload: { from: null, to: null },
          actor: { type: 'system', id: null },
          createdAt: new Date().toISOString(),
        },
      ],
    });
    firstRunId ??= handle.signaledRunId;
    await eventually(async () => assert.equal((await handle.query(ticketStateQuery)).lastAppliedId, id));
  }
  return temporal.client.workflow.getHandle(workflowIds.ticket(ticketId), firstRunId);
}
