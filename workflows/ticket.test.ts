import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';
import { dispatchTicketEvent } from '../outbox/dispatch.ts';
import { searchAttributes, workflowIds, workflowTypes } from '../temporal-config/index.ts';
import { testDatabase } from '../test/support/database.ts';
import {
  eventually,
  type RunningWorker,
  type TestTemporal,
  testTemporal,
  uniqueTaskQueue,
} from '../test/support/temporal.ts';
import { syntheticTicketEvent } from '../test/support/ticket-events.ts';
import { type TicketWorkflowInput, ticketEventSignal, ticketStateQuery } from './messages.ts';

describe('ticket workflow', function () {
  this.timeout(60_000);
  let temporal: TestTemporal;
  let worker: RunningWorker;
  const taskQueue = uniqueTaskQueue('ticket-workflow');

  before(async () => {
    temporal = await testTemporal();
    worker = await temporal.startWorker({ db: testDatabase().db, taskQueue });
  });
  after(async () => {
    await worker?.stop();
  });

  const organizationId = 'org-ticket-workflow';
  const send = (event: DispatchedTicketEvent) => dispatchTicketEvent(temporal.client, event, { taskQueue });
  const state = (ticketId: string) =>
    temporal.client.workflow.getHandle(workflowIds.ticket(ticketId)).query(ticketStateQuery);

  it('applies each event once, in id order, and drops redeliveries and older ids', async () => {
    const ticketId = randomUUID();
    await send(event(ticketId, 1, 'ticket.created'));
    await send(event(ticketId, 2, 'ticket.updated'));
    await send(event(ticketId, 2, 'ticket.updated')); // relay retry after a timeout that did reach Temporal
    await send(event(ticketId, 1, 'ticket.created')); // a second relay late with an old event
    await send(event(ticketId, 3, 'comment.created'));

    const s = await eventually(async () => {
      const s = await state(ticketId);
      assert.equal(s.lastAppliedId, 3);
      assert.equal(s.pending, 0);
      return s;
    });
    assert.deepEqual(
      s.recent.map((r) => [r.id, r.type]),
      [
        [1, 'ticket.created'],
        [2, 'ticket.updated'],
        [3, 'comment.created'],
      ],
    );
    assert.equal(s.appliedTotal, 3);
    assert.equal(s.duplicatesDropped, 2);
  });

  it('sorts signals that arrive together by id before applying them', async () => {
    // No worker polls this queue yet, so all three signals land in the workflow's first task together.
    const ticketId = randomUUID();
    const idleQueue = uniqueTaskQueue('ticket-idle');
    for (const id of [12, 10, 11]) {
      await dispatchTicketEvent(temporal.client, event(ticketId, id, 'ticket.updated'), { taskQueue: idleQueue });
    }
    const late = await temporal.startWorker({ db: testDatabase().db, taskQueue: idleQueue });
    try {
      const s = await eventually(async () => {
        const s = await state(ticketId);
        assert.equal(s.lastAppliedId, 12);
        return s;
      });
      assert.deepEqual(
        s.recent.map((r) => r.id),
        [10, 11, 12],
      );
      assert.equal(s.duplicatesDropped, 0);
    } finally {
      await late.stop();
    }
  });

  it('asks the registry which subscriptions want each event and records them', async () => {
    const ticketId = randomUUID();
    await send(event(ticketId, 1, 'ticket.created'));
    await send(event(ticketId, 2, 'ticket.assigned'));
    const s = await eventually(async () => {
      const s = await state(ticketId);
      assert.equal(s.lastAppliedId, 2);
      return s;
    });
    assert.deepEqual(
      s.recent.map((r) => [r.type, r.subscribers, r.failed]),
      [
        ['ticket.created', ['sla', 'webhooks', 'linear'], []],
        ['ticket.assigned', ['webhooks', 'linear'], []],
      ],
    );
  });

  it('continues as new after its event bound, carrying what it applied and its search attributes', async () => {
    const ticketId = randomUUID();
    const input: TicketWorkflowInput = { ticketId, organizationId, maxEventsPerRun: 3 };
    for (let id = 1; id <= 7; id++) {
      await temporal.client.workflow.signalWithStart(workflowTypes.ticket, {
        workflowId: workflowIds.ticket(ticketId),
        taskQueue,
        args: [input],
        signal: ticketEventSignal,
        signalArgs: [event(ticketId, id, 'ticket.updated')],
        typedSearchAttributes: [{ key: searchAttributes.TicketId, value: ticketId }],
      });
      // One at a time: a burst is drained within one run before it continues.
      await eventually(async () => assert.equal((await state(ticketId)).lastAppliedId, id));
    }
    // Runs 1 and 2 applied three events each and continued; run 3 holds the seventh.
    const s = await eventually(async () => {
      const s = await state(ticketId);
      assert.equal(s.runs, 3);
      return s;
    });
    assert.deepEqual(
      s.recent.map((r) => r.id),
      [1, 2, 3, 4, 5, 6, 7],
    );
    // The continued run still knows what was applied before it.
    await send(event(ticketId, 2, 'ticket.updated'));
    await eventually(async () => assert.equal((await state(ticketId)).duplicatesDropped, 1));
    const description = await temporal.client.workflow.getHandle(workflowIds.ticket(ticketId)).describe();
    assert.equal(description.typedSearchAttributes.get(searchAttributes.TicketId), ticketId);
  });

  const event = (ticketId: string, id: number, type: TicketEventType) =>
    syntheticTicketEvent(organizationId, ticketId, id, type);
});
