import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createDbActivities } from '../activities/db/index.ts';
import { createLinearActivities } from '../activities/linear/index.ts';
import { temporalDataConverter } from '../common/temporal-client.ts';
import type { TicketEventType } from '../common/ticket-events.ts';
import { dispatchTicketEvent } from '../outbox/dispatch.ts';
import { loadServiceConfig } from '../packages/integrations/index.ts';
import { linearActivityConfig } from '../packages/integrations/linear/server.ts';
import { workflowIds } from '../temporal-config/index.ts';
import { testDatabase } from '../test/support/database.ts';
import type { ProbeActivities } from '../test/support/probe-workflows.ts';
import {
  eventually,
  type RunningWorker,
  type TestTemporal,
  testTemporal,
  uniqueTaskQueue,
} from '../test/support/temporal.ts';
import { syntheticTicketEvent } from '../test/support/ticket-events.ts';
import { bundleWorkflows } from '../worker/create-worker.ts';
import { ticketStateQuery } from './messages.ts';
import { type Subscription, subscribersOf } from './registry.ts';

describe('subscription registry', function () {
  this.timeout(60_000);

  it('routes an event to the subscriptions that list its type', () => {
    const noop = async () => {};
    const registry: Subscription[] = [
      { name: 'a', eventTypes: ['ticket.created', 'comment.created'], handle: noop },
      { name: 'b', eventTypes: ['comment.created'], handle: noop },
    ];
    assert.deepEqual(
      subscribersOf(registry, 'comment.created').map((s) => s.name),
      ['a', 'b'],
    );
    assert.deepEqual(
      subscribersOf(registry, 'ticket.assigned').map((s) => s.name),
      [],
    );
  });

  describe('an integration plugged in without touching the ticket workflow', () => {
    let temporal: TestTemporal;
    let connection: NativeConnection;
    let worker: Worker;
    let running: Promise<void>;
    // The real registry includes the webhooks subscription: its activity needs its worker.
    let webhooksWorker: RunningWorker;
    const taskQueue = uniqueTaskQueue('registry');
    const recorded: Array<[string, number, string]> = [];

    before(async () => {
      temporal = await testTemporal();
      connection = await NativeConnection.connect({ address: temporal.address });
      const probeActivities: ProbeActivities = {
        async recordProbe(subscription, eventId, eventType) {
          recorded.push([subscription, eventId, eventType]);
        },
        async failProbe(eventId) {
          throw ApplicationFailure.nonRetryable(`probe refuses event ${eventId}`);
        },
      };
      worker = await Worker.create({
        connection,
        taskQueue,
        workflowBundle: await bundleWorkflows(
          fileURLToPath(new URL('../test/support/probe-workflows.ts', import.meta.url)),
        ),
        activities: {
          ...createDbActivities({ db: testDatabase().db }),
          // The Linear subscription routes each event with a local activity of this worker.
          ...createLinearActivities({
            db: testDatabase().db,
            config: linearActivityConfig(loadServiceConfig()),
            temporalClient: temporal.client,
          }),
          ...probeActivities,
        },
        dataConverter: temporalDataConverter(temporal.codecKeys),
      });
      running = worker.run();
      webhooksWorker = await temporal.startWebhooksWorker({ db: testDatabase().db, ticketsTaskQueue: taskQueue });
    });
    after(async () => {
      worker?.shutdown();
      await running;
      await webhooksWorker?.stop();
      await connection?.close();
    });

    it('receives exactly the events it subscribed to; a failing one is recorded and holds nobody back', async () => {
      const ticketId = randomUUID();
      const send = (id: number, type: TicketEventType) =>
        dispatchTicketEvent(temporal.client, event(ticketId, id, type), { taskQueue });
      await send(1, 'ticket.created');
      await send(2, 'comment.created');
      await send(3, 'ticket.updated');
      await send(4, 'comment.created');

      const state = await eventually(async () => {
        const state = await temporal.client.workflow.getHandle(workflowIds.ticket(ticketId)).query(ticketStateQuery);
        assert.equal(state.lastAppliedId, 4);
        return state;
      });
      assert.deepEqual(recorded, [
        ['comments-probe', 2, 'comment.created'],
        ['comments-probe', 4, 'comment.created'],
      ]);
      assert.deepEqual(
        state.recent.map((r) => [r.id, r.subscribers, r.failed.map((f) => f.subscriber)]),
        [
          [1, ['sla', 'webhooks', 'linear'], []],
          [2, ['sla', 'webhooks', 'linear', 'comments-probe'], []],
          [3, ['sla', 'webhooks', 'linear', 'failing-probe'], ['failing-probe']],
          [4, ['sla', 'webhooks', 'linear', 'comments-probe'], []],
        ],
      );
    });
  });
});

const event = (ticketId: string, id: number, type: TicketEventType) =>
  syntheticTicketEvent('org-registry', ticketId, id, type);
