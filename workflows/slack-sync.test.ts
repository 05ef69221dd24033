// The installation's sync workflow's own logic on the real Temporal server: what it does when one ticket keeps
// failing, when a round fails as a whole, when the workspace is disconnected for long. The Slack activities are
// replaced by an in-memory installation (the rounds asked for, what went out, the tickets paused) so each rule can be
// stated exactly; the same workflow against the real activities and the local Slack is tested in test/slack.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { SlackActivities } from '../activities/slack/index.ts';
import { temporalDataConverter } from '../common/temporal-client.ts';
import { eventually, type TestTemporal, testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';
import {
  SLACK_DISCONNECTED,
  type SlackRoundResult,
  type SlackSyncInput,
  type SlackTicketEvents,
  slackResumeSignal,
  slackSyncSignal,
  slackSyncStateQuery,
  slackWorkflowTypes,
} from './slack-contract.ts';

type Round = { tickets: SlackTicketEvents[] };

/** One installation as the activities would see it. */
class FakeInstallation {
  /** Every round the workflow asked for, in order, with when. */
  rounds: Array<{ tickets: SlackTicketEvents[]; at: number }> = [];
  /** Each ticket's events that went out, in order. */
  sent = new Map<string, number[]>();
  /** Tickets Slack fails (a read-only channel): the round sets them back, the others go out. */
  failing = new Set<string>();
  /** While set, a round fails as a whole after sending its first ticket (that failure, with that ticket done). */
  roundFailure: { type: string; nonRetryable: boolean } | null = null;
  connected = true;
  paused: string[][] = [];
  resumed: string[][] = [];

  sentOf(ticketId: string): number[] {
    return this.sent.get(ticketId) ?? [];
  }
  roundsWith(ticketId: string) {
    return this.rounds.filter((r) => r.tickets.some((t) => t.ticketId === ticketId));
  }
  private send({ ticketId, eventIds }: SlackTicketEvents) {
    this.sent.set(ticketId, [...this.sentOf(ticketId), ...eventIds]);
  }

  activities(): Partial<SlackActivities> {
    return {
      syncSlackTickets: async ({ tickets }: Round): Promise<SlackRoundResult> => {
        this.rounds.push({ tickets, at: Date.now() });
        const failure = !this.connected
          ? { type: SLACK_DISCONNECTED, nonRetryable: true, message: 'token_revoked' }
          : this.roundFailure && { ...this.roundFailure, message: 'the database went away' };
        if (failure) {
          this.send(tickets[0]!);
          throw ApplicationFailure.create({ ...failure, details: [{ doneTicketIds: [tickets[0]!.ticketId] }] });
        }
        const setBack = [];
        for (const t of tickets)
          if (this.failing.has(t.ticketId))
            setBack.push({ ticketId: t.ticketId, reason: 'Slack chat.postMessage failed: restricted_action' });
          else this.send(t);
        return { setBack };
      },
      pauseSlackTickets: async ({ ticketIds }) => {
        this.paused.push(ticketIds);
      },
      resumeSlackTickets: async ({ ticketIds }) => {
        this.resumed.push(ticketIds);
      },
      slackConnection: async () => ({ connected: this.connected }),
    };
  }
}

describe('Slack sync workflow (workflow logic, in-memory installation)', function () {
  this.timeout(90_000);
  const taskQueue = uniqueTaskQueue('slack-sync');
  let temporal: TestTemporal;
  let connection: NativeConnection;
  let slack: FakeInstallation;
  let worker: { worker: Worker; running: Promise<void> } | undefined;

  before(async () => {
    temporal = await testTemporal();
    connection = await NativeConnection.connect({ address: temporal.address });
    // Each test gets a fresh installation; the activities look it up at call time.
    const names = Object.keys(new FakeInstallation().activities());
    const activities = Object.fromEntries(
      names.map((name) => [
        name,
        (...args: unknown[]) => (slack.activities() as Record<string, (...a: unknown[]) => unknown>)[name]!(...args),
      ]),
    );
    const w = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await temporal.workflowBundle(),
      activities,
      dataConverter: temporalDataConverter(temporal.codecKeys),
    });
    worker = { worker: w, running: w.run() };
  });
  after(async () => {
    if (worker) {
      worker.worker.shutdown();
      await worker.running;
    }
    await connection?.close();
  });
  beforeEach(() => {
    slack = new FakeInstallation();
  });

  /** What the relay does: signal the installation's workflow, starting it if need be. */
  function relay(limits?: SlackSyncInput['limits']) {
    const workflowId = `slack-sync/${randomUUID()}`;
    const input: SlackSyncInput = { organizationId: 'org-1', integrationId: 'int-1', ...(limits ? { limits } : {}) };
    let firstRunId: string | undefined;
    const send = async (tickets: SlackTicketEvents[]): Promise<WorkflowHandle> => {
      const handle = await temporal.client.workflow.signalWithStart(slackWorkflowTypes.sync, {
        workflowId,
        taskQueue,
        args: [input],
        signal: slackSyncSignal,
        signalArgs: [tickets],
      });
      firstRunId ??= handle.signaledRunId;
      return handle;
    };
    const handle = () => temporal.client.workflow.getHandle(workflowId);
    const runs = async () => ((await handle().describe()).runId === firstRunId ? 1 : 2);
    return { send, handle, runs, state: () => handle().query(slackSyncStateQuery) };
  }

  it('sets a failing ticket aside with its own growing wait; its round’s other tickets, their later events and later runs go on', async () => {
    slack.failing.add('poison');
    const sync = relay({ roundsPerRun: 3 });
    await sync.send([
      { ticketId: 'poison', eventIds: [1] },
      { ticketId: 'a', eventIds: [2] },
    ]);
    await eventually(async () => assert.deepEqual(slack.sentOf('a'), [2]));
    await sync.send([{ ticketId: 'a', eventIds: [3] }]);
    await eventually(async () => assert.deepEqual(slack.sentOf('a'), [2, 3]), { timeoutMs: 5_000 });

    // More rounds than a run holds: the runs continue as new while the failing ticket waits (carried, not awaited).
    for (let id = 100; id < 110; id++) {
      await sync.send([{ ticketId: `b${id % 3}`, eventIds: [id] }]);
      await eventually(async () => assert.ok(slack.sentOf(`b${id % 3}`).includes(id), `event ${id} went out`), {
        timeoutMs: 5_000,
      });
    }
    assert.equal(await sync.runs(), 2, 'continued as new');

    const state = await eventually(
      async () => {
        const s = await sync.state();
        assert.ok((s.setAside[0]?.attempts ?? 0) >= 3, JSON.stringify(s));
        return s;
      },
      { timeoutMs: 20_000 },
    );
    assert.deepEqual(
      state.setAside.map((s) => [s.ticketId, s.reason]),
      [['poison', 'Slack chat.postMessage failed: restricted_action']],
      'the state says which ticket waits, and why',
    );
    const tries = slack.roundsWith('poison').map((r) => r.at);
    const gaps = tries.slice(1).map((at, i) => at - tries[i]!);
    assert.ok(gaps[0]! >= 1_900 && gaps[1]! >= 3_900, `waits grow: ${gaps.join(', ')} ms`);
    assert.deepEqual(slack.sentOf('poison'), []);

    slack.failing.clear();
    await eventually(async () => assert.deepEqual(slack.sentOf('poison'), [1]), { timeoutMs: 20_000 });
    await eventually(async () => assert.deepEqual((await sync.state()).setAside, []));
    assert.equal((await sync.state()).events, 0);
  });

  it('sets a failed round’s unfinished tickets aside instead of failing, and does not send its finished ones again', async () => {
    slack.roundFailure = { type: 'Boom', nonRetryable: true };
    const sync = relay();
    await sync.send([
      { ticketId: 'a', eventIds: [1] },
      { ticketId: 'b', eventIds: [2] },
    ]);
    await eventually(async () => {
      const s = await sync.state();
      assert.deepEqual(
        s.setAside.map((x) => x.ticketId),
        ['b'],
      );
      assert.match(s.setAside[0]!.reason, /the database went away/);
    });
    slack.roundFailure = null;
    await eventually(async () => assert.deepEqual(slack.sentOf('b'), [2]), { timeoutMs: 10_000 });
    assert.deepEqual(slack.sentOf('a'), [1], 'a went out once: the failure said it was done');
    assert.equal(slack.roundsWith('a').length, 1);
    assert.equal((await sync.handle().describe()).status.name, 'RUNNING');
  });

  it('while disconnected, continues as new on its history however the signals come, keeps each ticket’s first and latest events, and resumes every paused ticket', async () => {
    slack.connected = false;
    const sync = relay({ historyEventsPerRun: 60 });
    await sync.send([
      { ticketId: 't0', eventIds: [1000] },
      { ticketId: 't1', eventIds: [1001] },
    ]);
    await eventually(async () => assert.equal((await sync.state()).disconnected, true));
    assert.deepEqual(slack.sentOf('t0'), [1000], 'the round finished t0 before the workspace went');
    // Signals for tickets already recorded wake nothing but the run's own bound: only that can continue it as new.
    const idsOf = (i: number) => [i * 10, i * 10 + 1, i * 10 + 2];
    for (let i = 0; i < 80; i++) await sync.send([{ ticketId: `t${i % 5}`, eventIds: idsOf(i) }]);
    await eventually(async () => assert.equal(await sync.runs(), 2, 'continued as new while paused'));
    // Queried once the next run has taken its first step.
    const state = await eventually(() => sync.state());
    assert.equal(state.disconnected, true, 'still paused in the next run');
    assert.equal(state.tickets, 5);
    assert.ok(state.events <= 5 * 20, `at most 20 events per ticket: ${state.events}`);
    assert.deepEqual(
      slack.paused.flat().sort(),
      ['t0', 't1', 't2', 't3', 't4'],
      'each waiting ticket recorded once, across runs',
    );
    assert.equal((await sync.handle().describe()).status.name, 'RUNNING');

    slack.connected = true;
    await sync.handle().signal(slackResumeSignal);
    await eventually(async () => assert.equal((await sync.state()).events, 0));
    assert.deepEqual(slack.resumed.flat().sort(), ['t0', 't1', 't2', 't3', 't4']);
    const t1 = slack.sentOf('t1');
    assert.equal(t1.length, 20, 'its first event and its 19 latest');
    assert.equal(t1[0], 1001, 'the first waiting event (a new ticket’s ticket.created) is kept');
    const all = Array.from({ length: 80 }, (_, i) => i)
      .filter((i) => i % 5 === 1)
      .flatMap(idsOf);
    assert.deepEqual(t1.slice(1), all.slice(-19), 'and its latest, in order');
  });
});
