// Linear sync end to end: tickets changed through the domain, the outbox relay, the ticket workflow and its Linear
// subscription, each link's sync workflow and the real Linear activities against the local Linear server, whose
// webhooks (also for our own API changes, as Linear sends them) come back through the API's signed webhook route.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  externalSyncConflicts,
  externalSyncRecords,
  integrationConfigs,
  integrationEvents,
  supportRequests,
  ticketComments,
} from '@switchboard/database';
import protos from '@temporalio/proto';
import { type ReplayHistoriesIterable, Worker } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import {
  type LinearWorld,
  linearWorld,
  makeInstallation,
  makeTicket,
  memberKnownToLinear,
} from '../../activities/linear/test-support.ts';
import { sealCredentials } from '../../common/credentials.ts';
import { temporalDataConverter } from '../../common/temporal-client.ts';
import type { LinearConfig } from '../../domain/integrations/linear-config.ts';
import { getIntegration } from '../../domain/integrations/read-integrations.ts';
import { listLinks } from '../../domain/linear/links.ts';
import { addComment } from '../../domain/tickets/comments.ts';
import { updateTicket } from '../../domain/tickets/update-ticket.ts';
import { linearSettings } from '../../packages/integrations/linear/settings.ts';
import { workflowIds, workflowTypes } from '../../temporal-config/index.ts';
import {
  type LinearIssueRequest,
  type LinearIssueResult,
  linearReconcileSignal,
  linearResumeSignal,
  linearSyncStateQuery,
} from '../../workflows/linear-contract.ts';
import { startTestApi, type TestApi } from '../support/api.ts';
import { testDatabase, truncateAll } from '../support/database.ts';
import {
  eventually,
  type RunningWorker,
  startPipeline,
  type TestPipeline,
  testTemporal,
  uniqueTaskQueue,
} from '../support/temporal.ts';

describe('Linear sync, end to end against the local Linear server', function () {
  this.timeout(120_000);
  const taskQueue = uniqueTaskQueue('linear-e2e');
  let world: LinearWorld;
  let pipeline: TestPipeline;
  let linearWorker: RunningWorker;
  let api: TestApi;
  let integrationId: string;

  async function startLinearWorker() {
    const temporal = await testTemporal();
    linearWorker = await temporal.startLinearWorker({
      db: testDatabase().db,
      ticketsTaskQueue: taskQueue,
      config: world.config,
    });
  }

  before(async () => {
    await truncateAll(); // the relay would otherwise first deliver every earlier test file's events
    const temporal = await testTemporal();
    world = await linearWorld({ temporalClient: temporal.client });
    // The Linear worker runs on its own so one test can stop it.
    pipeline = await startPipeline(taskQueue, {}, {}, false);
    await startLinearWorker();
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) =>
        linearSettings.with(
          { ...config, temporal: { ...config.temporal, ticketsTaskQueue: taskQueue } },
          world.config.linear,
        ),
    });
  });
  after(async () => {
    await pipeline?.stop();
    await linearWorker?.stop();
    await api?.close();
    await world?.close();
  });

  async function install(config: Partial<LinearConfig> = {}, apiKey = world.linear.apiKey) {
    const secret = `whsec-${randomUUID()}`;
    integrationId = await makeInstallation(world, { apiKey, webhookSecret: secret }, config);
    const webhook = world.linear.webhooks.register({
      url: `${api.baseUrl}/api/linear/webhooks/${integrationId}`,
      secret,
    });
    registered.push(webhook.id);
  }
  const registered: string[] = [];
  // Every installation's webhook receives the workspace's changes: one test's links must not see the last test's
  // (and `dropNext` must drop the delivery this test's link would get).
  afterEach(() => {
    for (const id of registered.splice(0)) world.linear.state.webhooks.delete(id);
    world.linear.assertNoRejectedOperations();
  });

  /** A ticket with an issue created from it, synced once. */
  async function linkedTicket(input: Parameters<typeof makeTicket>[1] = {}) {
    const ticket = await makeTicket(world, input);
    return { ...(await linkIssue(ticket.id, { mode: 'create' })), ticket };
  }

  /** Runs the create/link workflow for a ticket and waits until its link synced once. */
  async function linkIssue(
    ticketId: string,
    how: { mode: 'create' } | { mode: 'link'; issueRef: string },
  ): Promise<{ issueId: string; linkId: string; sync: ReturnType<TestTemporalClient['workflow']['getHandle']> }> {
    const temporal = await testTemporal();
    const ticket = { id: ticketId };
    const requestKey = randomUUID();
    const request: LinearIssueRequest = {
      organizationId: world.org.organizationId,
      ticketId: ticket.id,
      integrationId,
      requestKey,
      requestedBy: { type: 'user', id: world.org.scope.userId },
      ...how,
    };
    const result: LinearIssueResult = await temporal.client.workflow.execute(workflowTypes.linearIssue, {
      workflowId: workflowIds.linearIssue(ticket.id, requestKey),
      taskQueue,
      args: [request],
    });
    const sync = temporal.client.workflow.getHandle(workflowIds.linearSync(ticket.id, result.issueId));
    await eventually(async () => assert.ok((await sync.query(linearSyncStateQuery)).lastSynced));
    await world.linear.webhooks.settle();
    return { issueId: result.issueId, linkId: result.linkId, sync };
  }
  type TestTemporalClient = Awaited<ReturnType<typeof testTemporal>>['client'];
  const linkRow = async (linkId: string) =>
    (await testDatabase().db.select().from(externalSyncRecords).where(eq(externalSyncRecords.id, linkId)))[0]!;

  const ticketRow = async (id: string) => {
    const [row] = await testDatabase().db.select().from(supportRequests).where(eq(supportRequests.id, id));
    return row!;
  };
  const change = async (id: string, fields: Record<string, unknown>) =>
    updateTicket(testDatabase().db, world.org.scope, id, { version: (await ticketRow(id)).version, ...fields });
  const issue = (id: string) => world.linear.state.issue(id);
  const stateName = (id: string) => world.linear.state.workflowState(issue(id).stateId).name;
  const commentsOnIssue = (id: string) => [...world.linear.state.comments.values()].filter((c) => c.issueId === id);
  const ticketCommentBodies = async (ticketId: string) =>
    (
      await testDatabase()
        .db.select({ body: ticketComments.body, author: ticketComments.authorDisplayName })
        .from(ticketComments)
        .where(eq(ticketComments.supportRequestId, ticketId))
    ).map((c) => c.body);

  /** Nothing moves any more: no ping-pong between the two sides. */
  async function assertQuiet(ticketId: string, issueId: string) {
    await world.linear.webhooks.settle();
    const before = { version: (await ticketRow(ticketId)).version, updatedAt: issue(issueId).updatedAt.getTime() };
    await new Promise((r) => setTimeout(r, 1500));
    await world.linear.webhooks.settle();
    assert.deepEqual(
      { version: (await ticketRow(ticketId)).version, updatedAt: issue(issueId).updatedAt.getTime() },
      before,
      'neither side changed again',
    );
  }

  it('ticket → Linear: status, assignee and priority, without echoes', async () => {
    await install();
    const agent = await memberKnownToLinear(world, 'Linus Agent');
    const { ticket, issueId } = await linkedTicket();
    const updatesBefore = world.linear.countCalls('issueUpdate');

    await change(ticket.id, { status: 'pending' });
    await eventually(async () => assert.equal(stateName(issueId), 'In Progress'));
    await change(ticket.id, { assigneeId: agent.userId });
    await eventually(async () =>
      assert.equal(world.linear.state.users.get(issue(issueId).assigneeId ?? '')?.email, agent.email),
    );
    await change(ticket.id, { priority: 'urgent' });
    await eventually(async () => assert.equal(issue(issueId).priority, 1));

    await assertQuiet(ticket.id, issueId);
    assert.equal(world.linear.countCalls('issueUpdate') - updatesBefore, 3, 'one write per change, none echoed');
    const row = await ticketRow(ticket.id);
    assert.deepEqual([row.status, row.priority, row.assigneeId], ['pending', 'urgent', agent.userId]);
  });

  it('replays the link workflow’s history with the current code (UPDATE_HISTORY_FIXTURES=1 records the fixture)', async () => {
    const temporal = await testTemporal();
    let record: { workflowId: string; runId: string } | undefined;
    for await (const r of temporal.client.workflow.list({ query: `WorkflowType = '${workflowTypes.linearSync}'` })) {
      record = r;
    }
    assert.ok(record, 'the previous test left a link workflow');
    const history = await temporal.client.workflow.getHandle(record.workflowId, record.runId).fetchHistory();
    const results = Worker.runReplayHistories(
      { workflowBundle: await temporal.workflowBundle(), dataConverter: temporalDataConverter(temporal.codecKeys) },
      [{ workflowId: record.workflowId, history }] as ReplayHistoriesIterable,
    );
    for await (const result of results) assert.equal(result.error, undefined);
    if (process.env.UPDATE_HISTORY_FIXTURES === '1') {
      const { History } = protos.temporal.api.history.v1;
      const json = History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
      const file = fileURLToPath(new URL('../histories/linear-sync.json', import.meta.url));
      writeFileSync(file, `${JSON.stringify(json, null, 1)}\n`);
    }
  });

  it('Linear → ticket: status, assignee and priority, without echoes', async () => {
    await install();
    const agent = await memberKnownToLinear(world, 'Grace Agent');
    const { ticket, issueId } = await linkedTicket();
    const updatesBefore = world.linear.countCalls('issueUpdate');

    world.linear.simulate.updateIssue(issueId, { stateName: 'Done' });
    await eventually(async () => assert.equal((await ticketRow(ticket.id)).status, 'solved'));
    world.linear.simulate.updateIssue(issueId, { assigneeEmail: agent.email });
    await eventually(async () => assert.equal((await ticketRow(ticket.id)).assigneeId, agent.userId));
    world.linear.simulate.updateIssue(issueId, { priority: 4 });
    await eventually(async () => assert.equal((await ticketRow(ticket.id)).priority, 'low'));

    await assertQuiet(ticket.id, issueId);
    assert.equal(world.linear.countCalls('issueUpdate'), updatesBefore, 'nothing written back to Linear');
    assert.equal(stateName(issueId), 'Done');
  });

  it('comments both ways, each once: redelivered webhooks and our own comments’ webhooks add nothing', async () => {
    await install();
    const { ticket, issueId } = await linkedTicket();
    await addComment(testDatabase().db, world.org.scope, ticket.id, { body: 'Customer says it fails on Safari' });
    await eventually(async () =>
      assert.deepEqual(
        commentsOnIssue(issueId).map((c) => c.body.includes('Customer says it fails on Safari')),
        [true],
      ),
    );
    world.linear.simulate.createComment(issueId, 'Reproduced, fix coming');
    await eventually(async () =>
      assert.ok((await ticketCommentBodies(ticket.id)).some((b) => b.includes('Reproduced, fix coming'))),
    );
    await world.linear.webhooks.settle();
    const commentDelivery = world.linear.webhooks.deliveries.filter((d) => d.event === 'Comment').at(-1)!;
    await world.linear.webhooks.redeliver(commentDelivery.deliveryId);
    await new Promise((r) => setTimeout(r, 1500));
    await world.linear.webhooks.settle();

    assert.equal(commentsOnIssue(issueId).length, 2, 'the mirrored comment and Grace’s');
    const bodies = await ticketCommentBodies(ticket.id);
    assert.equal(bodies.length, 2, `the agent's and the imported one: ${JSON.stringify(bodies)}`);
  });

  it('a conflict on the same field: the later change wins and the conflict is recorded', async () => {
    await install({ conflictPolicy: 'latest' });
    const { ticket, issueId, linkId } = await linkedTicket();
    // Linear's change is not seen before the ticket's (its webhook is lost), so both changed since the last sync.
    world.linear.webhooks.dropNext(1);
    world.linear.simulate.updateIssue(issueId, { stateName: 'Canceled' });
    await world.linear.webhooks.settle();
    await new Promise((r) => setTimeout(r, 20));
    await change(ticket.id, { status: 'pending' });

    await eventually(async () => assert.equal(stateName(issueId), 'In Progress'));
    const conflicts = await eventually(async () => {
      const rows = await testDatabase()
        .db.select()
        .from(externalSyncConflicts)
        .where(eq(externalSyncConflicts.syncRecordId, linkId));
      assert.equal(rows.length, 1);
      return rows;
    });
    assert.deepEqual(
      conflicts.map((c) => [c.field, c.winner, c.policy]),
      [['status', 'ticket', 'latest']],
    );
    const [settled] = conflicts;
    assert.ok(settled!.ticketChangedAt && settled!.externalChangedAt, 'both change times are recorded');
    assert.ok(settled!.ticketChangedAt > settled!.externalChangedAt, 'the ticket changed later, so it won');
    await assertQuiet(ticket.id, issueId);
    assert.equal((await ticketRow(ticket.id)).status, 'pending');
  });

  it('a rate limit whose reset is an hour away holds a change back only until the budget refilled, and the link and the installation say so meanwhile', async function () {
    this.timeout(120_000);
    await install();
    const { ticket, issueId } = await linkedTicket();
    const linkView = async () => (await listLinks({ db: testDatabase().db }, world.org.scope, ticket.id))[0]!;
    const health = async () => (await getIntegration(testDatabase().db, world.org.scope, integrationId)).health;
    assert.equal((await linkView()).syncStatus, 'synced');
    assert.equal((await health()).status, 'healthy');
    // Linear answers RATELIMITED with its bucket empty and full again in an hour; it refills 5000 an hour meanwhile.
    world.linear.failures.rateLimitNext(1, { resetInMs: 3_600_000 });
    const changedAt = Date.now();
    await change(ticket.id, { status: 'pending' });

    // While the change waits: the link is rate_limited with its next attempt, the installation degraded.
    let nextAttemptAt = Number.NaN;
    await eventually(
      async () => {
        const link = await linkView();
        assert.equal(link.syncStatus, 'rate_limited');
        nextAttemptAt = Date.parse(link.nextAttemptAt!);
      },
      { timeoutMs: 20_000 },
    );
    // The reserve and one more request refill in 51 × 720 ms; then Linear is asked again (not in an hour).
    const waitMs = nextAttemptAt - changedAt;
    assert.ok(waitMs >= 36_000 && waitMs < 60_000, `next attempt ${waitMs} ms after the change`);
    const degraded = await health();
    assert.deepEqual([degraded.status, degraded.rateLimitedLinks], ['degraded', 1]);
    assert.equal(stateName(issueId), 'Todo', 'nothing went out yet');

    await eventually(async () => assert.equal(stateName(issueId), 'In Progress'), { timeoutMs: 60_000 });
    const appliedAt = Date.now();
    assert.ok(appliedAt - changedAt < 60_000, `applied ${appliedAt - changedAt} ms after the change`);
    assert.ok(appliedAt - nextAttemptAt < 10_000, `applied ${appliedAt - nextAttemptAt} ms after the budget returned`);
    // Through: synced again, no attempt pending, the installation healthy.
    await eventually(async () => {
      const link = await linkView();
      assert.deepEqual([link.syncStatus, link.nextAttemptAt], ['synced', null]);
    });
    const healed = await health();
    assert.deepEqual([healed.status, healed.rateLimitedLinks], ['healthy', 0]);
  });

  it('a missed webhook is caught by reconciliation', async () => {
    await install();
    const { ticket, issueId, sync } = await linkedTicket();
    world.linear.webhooks.dropNext(1);
    world.linear.simulate.updateIssue(issueId, { stateName: 'In Progress' });
    await world.linear.webhooks.settle();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await ticketRow(ticket.id)).status, 'open', 'nobody told the link');
    await sync.signal(linearReconcileSignal);
    await eventually(async () => assert.equal((await ticketRow(ticket.id)).status, 'pending'));
  });

  it('a Linear worker killed (SIGKILL) mid-sync loses and doubles nothing', async () => {
    await install();
    const { ticket, issueId, linkId } = await linkedTicket();
    // This link's Linear work moves to a worker process that dies while Linear has posted a mirrored comment and
    // not yet answered: the activity neither completes nor fails, and only its timeout tells Temporal to retry it.
    await linearWorker.stop();
    const temporal = await testTemporal();
    const doomed = await temporal.startKillableLinearWorker({ ticketsTaskQueue: taskQueue, config: world.config });
    world.linear.failures.hangAfterEffectNext(1, { rootField: 'commentCreate' });
    await addComment(testDatabase().db, world.org.scope, ticket.id, { body: 'Posted as the worker died' });
    await eventually(async () =>
      assert.ok(commentsOnIssue(issueId).some((c) => c.body.includes('Posted as the worker died'))),
    );
    await doomed.kill();
    // Both sides change while no Linear worker runs.
    await change(ticket.id, { status: 'on_hold' });
    world.linear.simulate.createComment(issueId, 'Linear side, meanwhile');
    world.linear.simulate.updateIssue(issueId, { priority: 2 });
    await world.linear.webhooks.settle();

    await startLinearWorker();
    await eventually(
      async () => {
        assert.equal(stateName(issueId), 'Backlog');
        assert.equal((await ticketRow(ticket.id)).priority, 'high');
        assert.ok((await ticketCommentBodies(ticket.id)).some((b) => b.includes('Linear side, meanwhile')));
      },
      { timeoutMs: 60_000 },
    );
    await assertQuiet(ticket.id, issueId);
    assert.deepEqual(
      commentsOnIssue(issueId).map((c) => c.body.includes('Posted as the worker died')),
      [true, false],
      'the comment posted as the worker died is there once, beside the Linear one',
    );
    assert.equal((await ticketCommentBodies(ticket.id)).length, 2);
    const [link] = await testDatabase()
      .db.select()
      .from(externalSyncRecords)
      .where(and(eq(externalSyncRecords.id, linkId)));
    assert.equal(link!.syncStatus, 'synced');
  });

  it('links an existing issue engineers already work on: the ticket follows Linear, the issue is not moved back', async () => {
    await install();
    const existing = world.linear.simulate.createIssue({ title: 'Checkout times out', stateName: 'In Progress' });
    await world.linear.webhooks.settle();
    const ticket = await makeTicket(world);
    const updatesBefore = world.linear.countCalls('issueUpdate');
    const { issueId } = await linkIssue(ticket.id, { mode: 'link', issueRef: world.linear.state.identifier(existing) });
    assert.equal(issueId, existing.id);
    await eventually(async () => assert.equal((await ticketRow(ticket.id)).status, 'pending'));
    assert.equal(stateName(issueId), 'In Progress');
    assert.equal(world.linear.countCalls('issueUpdate'), updatesBefore, 'the issue was not written');
    await assertQuiet(ticket.id, issueId);
  });

  it('creates one issue by rule for a matching ticket, however many of its events follow, and none otherwise', async () => {
    await install({ autoCreateRules: [{ tags: ['bug'] }] });
    const creates = world.linear.countCalls('issueCreate');
    const bug = await makeTicket(world, { subject: 'Crash on save', tags: ['bug'] });
    const question = await makeTicket(world, { subject: 'How do I export?', tags: ['question'] });
    const links = async (ticketId: string) =>
      testDatabase().db.select().from(externalSyncRecords).where(eq(externalSyncRecords.supportRequestId, ticketId));
    await eventually(async () => assert.equal((await links(bug.id)).length, 1), { timeoutMs: 30_000 });
    await change(bug.id, { priority: 'high' });
    await change(bug.id, { tags: ['bug', 'customer'] });
    await eventually(async () => assert.equal((await ticketRow(bug.id)).version, 3));
    const [link] = await links(bug.id);
    const created = issue(link!.externalId);
    assert.equal(created.title, 'Crash on save');
    assert.ok(
      world.linear.state.issueAttachments(created.id).some((a) => a.url.endsWith(`/tickets/${bug.id}`)),
      'the ticket is attached to the issue',
    );
    await eventually(async () => assert.equal(issue(created.id).priority, 2), { timeoutMs: 30_000 });
    assert.equal((await links(bug.id)).length, 1);
    assert.equal((await links(question.id)).length, 0);
    assert.equal(world.linear.countCalls('issueCreate') - creates, 1);
  });

  it('a revoked token pauses the link, keeping its queued change; resumed after reconnecting, the change is applied', async () => {
    const key = world.linear.issueApiKey('ada@acme.test');
    await install({}, key);
    const ticket = await makeTicket(world);
    const { issueId, linkId, sync } = await linkIssue(ticket.id, { mode: 'create' });
    world.linear.failures.revokeToken(key);
    await change(ticket.id, { status: 'pending' });
    await eventually(async () => {
      const link = await linkRow(linkId);
      assert.equal(link.syncStatus, 'failed');
      assert.match(link.lastError ?? '', /LinearAuthRevoked.*reconnect/i);
    });
    const state = await sync.query(linearSyncStateQuery);
    assert.equal(state.paused?.code, 'LinearAuthRevoked');
    assert.ok(state.pending >= 1, 'the change waits in the queue');
    const events = await testDatabase()
      .db.select()
      .from(integrationEvents)
      .where(eq(integrationEvents.integrationConfigId, integrationId));
    assert.ok(
      events.some((e) => e.type === 'linear.link_failed'),
      'admins are told',
    );
    assert.equal(stateName(issueId), 'Todo');

    // Reconnecting stores new credentials; the dashboard's retry (or the reconnect itself) resumes the link.
    const { db } = testDatabase();
    await db
      .update(integrationConfigs)
      .set({
        credentials: sealCredentials(world.config.credentialKeys, world.org.organizationId, integrationId, {
          apiKey: world.linear.issueApiKey('ada@acme.test'),
          webhookSecret: 'unused-after-registration',
        }),
      })
      .where(eq(integrationConfigs.id, integrationId));
    await sync.signal(linearResumeSignal);
    await eventually(async () => {
      assert.equal(stateName(issueId), 'In Progress');
      assert.equal((await linkRow(linkId)).syncStatus, 'synced');
    });
  });

  it('a deleted issue marks the link failed with a clear reason', async () => {
    await install();
    const { issueId, linkId } = await linkedTicket();
    world.linear.simulate.deleteIssue(issueId, { permanently: true });
    await eventually(async () => {
      const link = await linkRow(linkId);
      assert.equal(link.syncStatus, 'failed');
      assert.match(link.lastError ?? '', /LinearIssueNotFound/);
    });
  });
});
