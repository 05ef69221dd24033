// The link workflow's own logic on the real Temporal server: what it does with the changes it is signalled, when it
// pauses and resumes, how it continues as new. The Linear activities are replaced by an in-memory link (both sides'
// values, the synced values, the calls made) so each rule can be stated exactly; the same workflow against the real
// activities and the Linear fake is tested in test/linear/sync.test.ts.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { LinearActivities, LinearIssueDisplay, LinkSnapshot } from '../activities/linear/contract.ts';
import { temporalDataConverter } from '../common/temporal-client.ts';
import type { DispatchedTicketEvent } from '../common/ticket-events.ts';
import { searchAttributes, ticketSearchAttributes, workflowIds, workflowTypes } from '../temporal-config/index.ts';
import { eventually, type TestTemporal, testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';
import {
  type LinearLinkChange,
  type LinearSyncInput,
  type LinearWebhookChange,
  linearChangeSignal,
  linearReconcileSignal,
  linearResumeSignal,
  linearSyncStateQuery,
  linearTaskQueueFor,
  linearUnlinkSignal,
} from './linear-contract.ts';
import type { LinearSide, LinearState, SyncedValues, TicketSide } from './linear-sync-plan.ts';

const states: LinearState[] = [
  { id: 'todo', name: 'Todo', type: 'unstarted', position: 1 },
  { id: 'progress', name: 'In Progress', type: 'started', position: 2 },
  { id: 'done', name: 'Done', type: 'completed', position: 3 },
];

/** One link as the activities would see it, with every call the workflow made. */
class FakeLink {
  ticket: TicketSide = {
    status: 'open',
    priority: 'normal',
    assigneeEmail: null,
    changedAt: { status: null, priority: null, assignee: null },
  };
  linear: LinearSide = { stateId: 'todo', priority: 3, assigneeEmail: null, updatedAt: iso(0) };
  lastSynced: SyncedValues | null = null;
  unlinked = false;
  /** While set, every Linear call fails with it (non-retryable). */
  failure: { type: string; message: string } | null = null;
  unmappedLinearComments: Array<{ id: string; body: string; authorName: string; authorId: null; createdAt: string }> =
    [];
  calls: Array<[string, unknown?]> = [];
  /** Holds mirrorTicketComment until released (to keep changes queued). */
  gate: Promise<void> | null = null;
  /** Holds readLinkSnapshot until released. */
  readGate: Promise<void> | null = null;
  /** Runs once as the next ticket write starts: someone editing the ticket between the step's read and write. */
  beforeTicketWrite: (() => void) | null = null;
  clock = 0;

  count(name: string): number {
    return this.calls.filter(([n]) => n === name).length;
  }
  argsOf(name: string): unknown[] {
    return this.calls.filter(([n]) => n === name).map(([, a]) => a);
  }
  private linearCall(name: string, args?: unknown) {
    this.calls.push([name, args]);
    if (this.failure) throw ApplicationFailure.nonRetryable(this.failure.message, this.failure.type);
  }
  touchLinear(changes: Partial<LinearSide>) {
    this.linear = { ...this.linear, ...changes, updatedAt: iso(++this.clock) };
  }

  activities(): Partial<LinearActivities> {
    return {
      readLinkSnapshot: async () => {
        await this.readGate;
        this.linearCall('readLinkSnapshot');
        if (this.unlinked) return { link: 'unlinked' };
        const snapshot: LinkSnapshot = {
          link: 'active',
          settings: {
            statusToLinear: {},
            linearToStatus: {},
            syncPriority: true,
            conflictPolicy: 'latest',
            states,
            commentsToLinear: 'public',
            commentsFromLinear: 'internal',
            reconcileIntervalMs: 600_000,
          },
          ticket: structuredClone(this.ticket),
          linear: structuredClone(this.linear),
          issue: display(this.linear),
          lastSynced: this.lastSynced,
          unmappedLinearComments: [...this.unmappedLinearComments],
        };
        return snapshot;
      },
      updateLinearIssue: async ({ changes }) => {
        this.linearCall('updateLinearIssue', changes);
        const { stateId, priority, assigneeEmail } = changes;
        this.touchLinear({
          ...(stateId !== undefined ? { stateId } : {}),
          ...(priority !== undefined ? { priority } : {}),
          ...(assigneeEmail !== undefined ? { assigneeEmail } : {}),
        });
        return {
          updatedAt: this.linear.updatedAt,
          assigneeEmail: this.linear.assigneeEmail,
          issue: display(this.linear),
        };
      },
      updateTicketFromLinear: async ({ changes, expected }) => {
        this.beforeTicketWrite?.();
        this.beforeTicketWrite = null;
        this.calls.push(['updateTicketFromLinear', changes]);
        const fields = Object.keys(changes) as Array<keyof typeof changes>;
        if (expected && fields.some((f) => this.ticket[f] !== changes[f] && this.ticket[f] !== expected[f]))
          return { assigneeEmail: undefined, stale: true };
        this.ticket = { ...this.ticket, ...changes };
        return { assigneeEmail: changes.assigneeEmail };
      },
      recordSyncState: async ({ synced, conflicts }) => {
        this.calls.push(['recordSyncState', conflicts]);
        this.lastSynced = synced;
      },
      markLinkFailed: async ({ code, reason }) => {
        this.calls.push(['markLinkFailed', { code, reason }]);
      },
      markLinkPending: async () => {
        this.calls.push(['markLinkPending']);
      },
      mirrorTicketComment: async ({ commentId }) => {
        await this.gate;
        this.linearCall('mirrorTicketComment', commentId);
        return { linearCommentId: `lin-${commentId}` };
      },
      importLinearComment: async ({ comment }) => {
        this.calls.push(['importLinearComment', comment.id]);
        this.unmappedLinearComments = this.unmappedLinearComments.filter((c) => c.id !== comment.id);
        return { ticketCommentId: `tc-${comment.id}` };
      },
    };
  }
}

function iso(seconds: number): string {
  return new Date(Date.UTC(2025, 0, 1, 10, 0, seconds)).toISOString();
}

function display(linear: LinearSide): LinearIssueDisplay {
  const state = states.find((s) => s.id === linear.stateId)!;
  return {
    id: 'issue-1',
    identifier: 'ENG-1',
    title: 'Printer on fire',
    url: 'https://linear.app/acme/issue/ENG-1/printer-on-fire',
    state: { id: state.id, name: state.name, type: state.type },
    assignee: null,
    priority: linear.priority,
  };
}

describe('Linear sync workflow (workflow logic, in-memory link)', function () {
  this.timeout(60_000);
  const taskQueue = uniqueTaskQueue('linear-sync');
  let temporal: TestTemporal;
  let connection: NativeConnection;
  let link: FakeLink;
  const workers: Array<{ worker: Worker; running: Promise<void> }> = [];

  before(async () => {
    temporal = await testTemporal();
    connection = await NativeConnection.connect({ address: temporal.address });
    const dataConverter = temporalDataConverter(temporal.codecKeys);
    // Each test gets a fresh link; the activities look it up at call time.
    const forward = new Proxy({} as Record<string, (...args: unknown[]) => unknown>, {
      get:
        (_, name: string) =>
        (...args: unknown[]) =>
          (link.activities() as Record<string, (...a: unknown[]) => unknown>)[name]!(...args),
    });
    const activityNames = Object.keys(new FakeLink().activities());
    const activities = Object.fromEntries(activityNames.map((n) => [n, forward[n]!]));
    // The database-side activities are local activities of the workflow's own worker.
    const workflows = await Worker.create({
      connection,
      taskQueue,
      workflowBundle: await temporal.workflowBundle(),
      activities,
      dataConverter,
    });
    const linear = await Worker.create({
      connection,
      taskQueue: linearTaskQueueFor(taskQueue),
      activities,
      dataConverter,
    });
    for (const worker of [workflows, linear]) workers.push({ worker, running: worker.run() });
  });
  after(async () => {
    for (const { worker, running } of workers) {
      worker.shutdown();
      await running;
    }
    await connection?.close();
  });
  beforeEach(() => {
    link = new FakeLink();
  });

  async function start(over: Partial<LinearSyncInput> = {}): Promise<WorkflowHandle> {
    const ticketId = randomUUID();
    const input: LinearSyncInput = {
      organizationId: 'org-1',
      ticketId,
      linkId: randomUUID(),
      integrationId: 'integration-1',
      issueId: 'issue-1',
      ...over,
    };
    return temporal.client.workflow.start(workflowTypes.linearSync, {
      workflowId: workflowIds.linearSync(ticketId, input.issueId),
      taskQueue,
      args: [input],
      typedSearchAttributes: ticketSearchAttributes(ticketId, input.organizationId, 'linear'),
    });
  }
  const state = (h: WorkflowHandle) => h.query(linearSyncStateQuery);
  const ticketEvent = (type: DispatchedTicketEvent['type'], payload: unknown = {}): LinearLinkChange => ({
    kind: 'ticket-event',
    event: {
      id: Math.floor(Math.random() * 1e9),
      organizationId: 'org-1',
      ticketId: 't',
      type,
      payload,
      actor: { type: 'user', id: 'u' },
      createdAt: new Date().toISOString(),
    },
  });
  const webhook = (over: Partial<LinearWebhookChange> = {}): LinearLinkChange => ({
    kind: 'linear-webhook',
    change: {
      deliveryId: randomUUID(),
      type: 'Issue',
      action: 'update',
      issueId: 'issue-1',
      updatedAt: link.linear.updatedAt,
      actorId: 'grace',
      ...over,
    },
  });
  /** The `ticket.updated` event the domain writes for a change of these fields, as the ticket now stands. */
  const ticketUpdated = (...fields: string[]): LinearLinkChange =>
    ticketEvent('ticket.updated', {
      ticket: { status: link.ticket.status, priority: link.ticket.priority },
      changes: Object.fromEntries(fields.map((f) => [f, { from: null, to: null }])),
    });
  const comment = (id: string, source = 'web') =>
    ticketEvent('comment.created', { comment: { id, source, isPublic: true } });

  it('links the two sides on start, then writes a ticket change to Linear and drops the echo of that write unread', async () => {
    const handle = await start();
    await eventually(async () => assert.ok((await state(handle)).lastSynced));
    assert.equal(link.count('updateLinearIssue'), 0, 'open and Todo already agree');

    link.ticket = { ...link.ticket, status: 'solved', changedAt: { ...link.ticket.changedAt, status: iso(5) } };
    await handle.signal(linearChangeSignal, ticketUpdated('status'));
    await eventually(async () => assert.equal((await state(handle)).lastSynced?.linear.stateId, 'done'));
    assert.deepEqual(link.argsOf('updateLinearIssue'), [{ stateId: 'done' }]);
    assert.equal(link.linear.stateId, 'done');

    // Linear's webhook for our own write: same updatedAt as the write returned.
    const reads = link.count('readLinkSnapshot');
    await handle.signal(linearChangeSignal, webhook({ updatedAt: link.linear.updatedAt, actorId: 'us' }));
    await eventually(async () => assert.equal((await state(handle)).changesApplied, 2));
    assert.equal(link.count('readLinkSnapshot'), reads, 'the echo needed no Linear read');
    assert.equal(link.count('updateTicketFromLinear'), 0);
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('writes Linear changes to the ticket; changes queued while a step reads are served by that step', async () => {
    const handle = await start();
    await eventually(async () => assert.ok((await state(handle)).lastSynced));
    let release!: () => void;
    link.readGate = new Promise((r) => {
      release = r;
    });
    // The step for the first webhook is reading when Linear changes again; the second webhook queues behind it.
    link.touchLinear({ stateId: 'progress' });
    await handle.signal(linearChangeSignal, webhook());
    await new Promise((r) => setTimeout(r, 200));
    link.touchLinear({ priority: 1 });
    await handle.signal(linearChangeSignal, webhook());
    release();
    await eventually(async () => assert.equal((await state(handle)).changesApplied, 2));
    assert.equal(link.ticket.status, 'pending');
    assert.equal(link.ticket.priority, 'urgent');
    assert.deepEqual(link.argsOf('updateTicketFromLinear'), [{ status: 'pending', priority: 'urgent' }]);
    assert.equal(link.count('readLinkSnapshot'), 2, 'the second webhook reported what the read already saw');
    assert.equal(link.count('updateLinearIssue'), 0, 'nothing echoed back to Linear');
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('plans again when the ticket changed after the step read it: the edit meets the Linear change as a conflict, never overwritten unseen', async () => {
    const handle = await start();
    await eventually(async () => assert.ok((await state(handle)).lastSynced));
    // An engineer starts the issue; while the step that applies it runs, an agent solves the ticket (later).
    link.touchLinear({ stateId: 'progress' });
    link.beforeTicketWrite = () => {
      link.ticket = { ...link.ticket, status: 'solved', changedAt: { ...link.ticket.changedAt, status: iso(30) } };
    };
    await handle.signal(linearChangeSignal, webhook());
    // The step that resolves it records both sides as solved/Done.
    await eventually(async () => assert.equal((await state(handle)).lastSynced?.ticket.status, 'solved'));
    assert.equal(link.linear.stateId, 'done');
    assert.equal(link.ticket.status, 'solved', "the agent's later change wins");
    assert.deepEqual(link.argsOf('updateTicketFromLinear'), [{ status: 'pending' }], 'the stale write wrote nothing');
    const conflicts = link.argsOf('recordSyncState').flat() as Array<{ field: string; winner: string }>;
    assert.deepEqual(
      conflicts.map((c) => [c.field, c.winner]),
      [['status', 'ticket']],
    );
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('mirrors ticket comments and imports Linear comments once each, skipping comments that came from Linear', async () => {
    const handle = await start();
    const fromLinear = webhook({
      type: 'Comment',
      action: 'create',
      comment: { id: 'lc-1', body: 'Fixed in main', authorName: 'Grace', authorId: 'grace', createdAt: iso(9) },
    });
    await handle.signal(linearChangeSignal, comment('c-1'));
    await handle.signal(linearChangeSignal, comment('c-imported', 'linear'));
    await handle.signal(linearChangeSignal, fromLinear);
    // Linear delivering the same webhook again (it did not see our 200 in time).
    await handle.signal(linearChangeSignal, fromLinear);
    await eventually(async () => assert.equal((await state(handle)).pending, 0));
    await eventually(async () => assert.equal((await state(handle)).changesApplied, 3));
    assert.deepEqual(link.argsOf('mirrorTicketComment'), ['c-1']);
    assert.deepEqual(link.argsOf('importLinearComment'), ['lc-1']);
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('pauses on a revoked token without losing queued changes, and applies them once resumed', async () => {
    const handle = await start();
    await eventually(async () => assert.ok((await state(handle)).lastSynced));
    link.failure = { type: 'LinearAuthRevoked', message: 'the Linear token was revoked' };
    await handle.signal(linearChangeSignal, comment('c-1'));
    link.ticket = { ...link.ticket, priority: 'high', changedAt: { ...link.ticket.changedAt, priority: iso(3) } };
    await handle.signal(linearChangeSignal, ticketUpdated('priority'));
    await eventually(async () =>
      assert.deepEqual((await state(handle)).paused, {
        code: 'LinearAuthRevoked',
        reason: 'the Linear token was revoked',
      }),
    );
    assert.deepEqual(link.argsOf('markLinkFailed'), [
      { code: 'LinearAuthRevoked', reason: 'the Linear token was revoked' },
    ]);
    await handle.signal(linearChangeSignal, comment('c-2'));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await state(handle)).pending, 3, 'everything stays queued while paused');

    link.failure = null;
    await handle.signal(linearResumeSignal);
    await eventually(async () => assert.equal((await state(handle)).pending, 0));
    assert.equal((await state(handle)).paused, null);
    assert.equal(link.count('markLinkPending'), 1);
    assert.deepEqual(
      link.argsOf('mirrorTicketComment').filter((_, i, all) => all.indexOf(_) === i),
      ['c-1', 'c-2'],
    );
    assert.equal(link.linear.priority, 2);
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('ends when unlinked, and when the link row is gone', async () => {
    const unlinked = await start();
    await unlinked.signal(linearUnlinkSignal);
    await unlinked.result();

    link.unlinked = true;
    const gone = await start();
    await gone.result();
    assert.equal((await gone.describe()).status.name, 'COMPLETED');
  });

  it('ends, rather than pausing for a resume that cannot come, when the link row disappears in the middle of a step', async () => {
    link.failure = { type: 'LinearLinkNotFound', message: 'link gone no longer exists' };
    const handle = await start();
    await handle.result();
    assert.equal((await handle.describe()).status.name, 'COMPLETED');
    assert.equal(link.count('markLinkFailed'), 0);
  });

  it('reconciles on schedule on a busy link too: changes arriving more often than the interval do not postpone it', async () => {
    const handle = await start({ reconcileIntervalMs: 1_000 });
    await eventually(async () => assert.equal((await state(handle)).reconciles, 1));
    // A comment every 250 ms for 4 s: never a quiet second, so a quiet-interval timer would never fire.
    for (let i = 0; i < 16; i++) {
      await handle.signal(linearChangeSignal, comment(`busy-${i}`));
      await new Promise((r) => setTimeout(r, 250));
    }
    // The first reconcile and about four scheduled ones by now; asking for two scheduled leaves room for a slow machine.
    assert.ok((await state(handle)).reconciles >= 3, 'reconciled on schedule while busy');
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('forgets a resume sent while the link is healthy: the next pause holds until someone resumes it then', async () => {
    const handle = await start();
    await eventually(async () => assert.ok((await state(handle)).lastSynced));
    await handle.signal(linearResumeSignal);
    link.failure = { type: 'LinearAuthRevoked', message: 'token revoked' };
    await handle.signal(linearChangeSignal, comment('while-revoked'));
    await eventually(async () => assert.equal((await state(handle)).paused?.code, 'LinearAuthRevoked'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(link.count('markLinkPending'), 0);
    assert.equal((await state(handle)).paused?.code, 'LinearAuthRevoked');
    link.failure = null;
    await handle.signal(linearResumeSignal);
    await eventually(async () => assert.equal((await state(handle)).paused, null));
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });

  it('reconciles on its timer and on request: catches a Linear change whose webhook never came, and unmapped comments', async () => {
    const handle = await start({ reconcileIntervalMs: 700 });
    await eventually(async () => assert.ok((await state(handle)).lastSynced));
    link.touchLinear({ assigneeEmail: 'grace@acme.test' });
    link.unmappedLinearComments.push({
      id: 'lc-missed',
      body: 'hi',
      authorName: 'Grace',
      authorId: null,
      createdAt: iso(1),
    });
    await eventually(async () => assert.equal(link.ticket.assigneeEmail, 'grace@acme.test'));
    await eventually(async () => assert.deepEqual(link.argsOf('importLinearComment'), ['lc-missed']));
    const before = (await state(handle)).reconciles;
    assert.ok(before >= 2);

    const manual = await start({ reconcileIntervalMs: 600_000 });
    await eventually(async () => assert.equal((await state(manual)).reconciles, 1));
    await manual.signal(linearReconcileSignal);
    await eventually(async () => assert.equal((await state(manual)).reconciles, 2));
    for (const h of [handle, manual]) {
      await h.signal(linearUnlinkSignal);
      await h.result();
    }
  });

  it('continues as new after maxChangesPerRun, carrying the queue and the search attributes', async () => {
    let release!: () => void;
    link.gate = new Promise((r) => {
      release = r;
    });
    const handle = await start({ maxChangesPerRun: 1 });
    for (const id of ['c-1', 'c-2', 'c-3']) await handle.signal(linearChangeSignal, comment(id));
    await new Promise((r) => setTimeout(r, 300));
    release();
    await eventually(async () => {
      const s = await state(handle);
      assert.equal(s.pending, 0);
      assert.ok(s.runs >= 3, `runs: ${s.runs}`);
      assert.equal(s.changesApplied, 3);
    });
    assert.deepEqual(link.argsOf('mirrorTicketComment'), ['c-1', 'c-2', 'c-3'], 'in order, each once');
    const described = await handle.describe();
    assert.equal(described.typedSearchAttributes.get(searchAttributes.IntegrationType), 'linear');

    // Paused and resumed in a later run, the queue still intact.
    link.failure = { type: 'LinearIssueNotFound', message: 'Entity not found: Issue' };
    await handle.signal(linearChangeSignal, comment('c-4'));
    await eventually(async () => assert.equal((await state(handle)).paused?.code, 'LinearIssueNotFound'));
    link.failure = null;
    await handle.signal(linearResumeSignal);
    await eventually(async () => assert.deepEqual(link.argsOf('mirrorTicketComment').at(-1), 'c-4'));
    await handle.signal(linearUnlinkSignal);
    await handle.result();
  });
});
