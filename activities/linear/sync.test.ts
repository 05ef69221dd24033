// The activities a link's sync workflow runs, against the local Linear server and the real database: the
// snapshot both sides are merged from, writes to either side, the recorded sync state and link status, comments
// both ways without duplicates or echoes, and routing ticket events to the links' workflows.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  externalCommentLinks,
  externalSyncConflicts,
  externalSyncRecords,
  integrationConfigs,
  integrationEvents,
  supportRequests,
  ticketComments,
  ticketEvents,
} from '@switchboard/database';
import type { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { and, desc, eq } from 'drizzle-orm';
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import type { LinearConfig } from '../../domain/integrations/linear-config.ts';
import { getIntegration } from '../../domain/integrations/read-integrations.ts';
import type { LinearDeps } from '../../domain/linear/installation.ts';
import { listLinks, unlink } from '../../domain/linear/links.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { addComment } from '../../domain/tickets/comments.ts';
import { updateTicket } from '../../domain/tickets/update-ticket.ts';
import { searchAttributes, workflowIds } from '../../temporal-config/index.ts';
import { testDatabase } from '../../test/support/database.ts';
import { testTemporal, uniqueTaskQueue } from '../../test/support/temporal.ts';
import { syntheticTicketEvent } from '../../test/support/ticket-events.ts';
import type { SyncedValues } from '../../workflows/linear-sync-plan.ts';
import { mirroredCommentId } from './comment-ids.ts';
import { type LinearIssueDisplay, type LinkRef, type LinkSnapshot, linearFailureTypes } from './contract.ts';
import { createLinearActivities } from './index.ts';
import { forgetBudgets } from './rate-budget.ts';
import { ticketsTaskQueueFor } from './route-ticket-event.ts';
import {
  closeLinearWorld,
  type LinearWorld,
  linearFailure,
  linearWorld,
  makeInstallation,
  makeTicket,
  memberKnownToLinear,
} from './test-support.ts';

const db = () => testDatabase().db;

describe('Linear activities: sync', function () {
  this.timeout(30_000);
  let world: LinearWorld;

  beforeEach(async () => {
    world = await linearWorld();
  });
  afterEach(async () => {
    // What a rate-limited test taught this process about the budget must not hold the next test back.
    forgetBudgets();
    await closeLinearWorld(world);
  });

  /** A ticket linked to a new issue (ENG-n) through the activities, as the issue workflow does it. */
  async function linkedTicket(config: Partial<LinearConfig> = {}, ticketInput: Parameters<typeof makeTicket>[1] = {}) {
    const integrationId = await makeInstallation(world, 'apiKey', config);
    const ticket = await makeTicket(world, ticketInput);
    const issue = await world.activities.createLinearIssue({
      organizationId: world.org.organizationId,
      ticketId: ticket.id,
      integrationId,
      requestKey: 'k',
      requestedBy: world.org.scope.actor,
      mode: 'create',
    });
    const ref = await linkTo(ticket.id, integrationId, issue);
    return { integrationId, ticket, issue, ref };
  }

  /** Links one more ticket to an issue. */
  async function linkTo(ticketId: string, integrationId: string, issue: LinearIssueDisplay): Promise<LinkRef> {
    const organizationId = world.org.organizationId;
    const { linkId } = await world.activities.recordLink({ organizationId, ticketId, integrationId, issue });
    return { organizationId, linkId };
  }

  async function currentTicket(ticketId: string) {
    const [row] = await db().select().from(supportRequests).where(eq(supportRequests.id, ticketId));
    return row!;
  }

  describe('readLinkSnapshot', () => {
    it('reads both sides, the settings with defaults, and when each ticket field last changed', async () => {
      const grace = await memberKnownToLinear(world, 'Grace Hopper');
      const { ticket, issue, ref } = await linkedTicket({ statusToLinear: { solved: 'a-state-of-another-team' } });
      const updated = await updateTicket(db(), world.org.scope, ticket.id, {
        version: ticket.version,
        status: 'pending',
        assigneeId: grace.userId,
      });
      world.linear.simulate.updateIssue(issue.id, { stateName: 'In Progress', priority: 2 });

      const snapshot = await world.activities.readLinkSnapshot(ref);
      assert.equal(snapshot.link, 'active');
      if (snapshot.link !== 'active') return;
      const [statusEvent] = await db()
        .select({ createdAt: ticketEvents.createdAt })
        .from(ticketEvents)
        .where(and(eq(ticketEvents.supportRequestId, ticket.id), eq(ticketEvents.type, 'ticket.updated')))
        .orderBy(desc(ticketEvents.id));
      assert.deepEqual(snapshot.ticket, {
        status: 'pending',
        priority: 'normal',
        assigneeEmail: grace.email,
        changedAt: {
          status: statusEvent!.createdAt.toISOString(),
          assignee: statusEvent!.createdAt.toISOString(),
          priority: new Date(updated.createdAt).toISOString(),
        },
      });
      const stored = world.linear.state.issue(issue.id);
      assert.deepEqual(snapshot.linear, {
        stateId: world.linear.state.stateByName(stored.teamId, 'In Progress')!.id,
        priority: 2,
        assigneeEmail: null,
        updatedAt: stored.updatedAt.toISOString(),
      });
      assert.equal(snapshot.issue.identifier, issue.identifier);
      assert.equal(snapshot.issue.state?.name, 'In Progress');
      assert.equal(snapshot.settings.states.length, 6);
      assert.deepEqual(snapshot.settings.statusToLinear, {}, "another team's state is not offered to Linear");
      assert.equal(snapshot.settings.commentsToLinear, 'public');
      assert.equal(snapshot.settings.commentsFromLinear, 'internal');
      assert.equal(snapshot.settings.conflictPolicy, 'latest');
      assert.equal(snapshot.settings.reconcileIntervalMs, 600_000);
      assert.equal(snapshot.lastSynced, null);
      assert.equal(world.linear.countCalls('issue'), 2, 'one query for the snapshot (after the create lookup)');
    });

    it("lists the issue's comments the ticket does not have yet", async () => {
      const { issue, ref } = await linkedTicket();
      const grace = world.linear.simulate.createComment(issue.id, 'Reproduced on staging.');
      const imported = world.linear.simulate.createComment(issue.id, 'Fix is in review.', { as: 'linus@acme.test' });
      await world.activities.importLinearComment({
        ...ref,
        comment: { id: imported.id, body: imported.body, authorName: 'Linus', authorId: null, createdAt: '' },
      });
      const snapshot = await world.activities.readLinkSnapshot(ref);
      assert.ok(snapshot.link === 'active');
      assert.deepEqual(snapshot.unmappedLinearComments, [
        {
          id: grace.id,
          body: 'Reproduced on staging.',
          authorName: 'Grace Hopper',
          authorId: grace.userId,
          createdAt: grace.createdAt.toISOString(),
        },
      ]);
    });

    it('is unlinked for a link that does not exist or belongs to another organisation', async () => {
      const { ref } = await linkedTicket();
      assert.deepEqual(await world.activities.readLinkSnapshot({ ...ref, linkId: randomUUID() }), { link: 'unlinked' });
      const other = await makeOrganization();
      assert.deepEqual(await world.activities.readLinkSnapshot({ ...ref, organizationId: other.organizationId }), {
        link: 'unlinked',
      });
    });

    it('a trashed or deleted issue is LinearIssueNotFound, not retried', async () => {
      const { issue, ref } = await linkedTicket();
      world.linear.simulate.deleteIssue(issue.id);
      await assert.rejects(
        world.activities.readLinkSnapshot(ref),
        linearFailure(linearFailureTypes.issueNotFound, true),
      );
      world.linear.simulate.deleteIssue(issue.id, { permanently: true });
      await assert.rejects(
        world.activities.readLinkSnapshot(ref),
        linearFailure(linearFailureTypes.issueNotFound, true),
      );
    });

    it('an issue moved in Linear to a team the installation may not link is LinearTeamNotAllowed, naming the team; not retried', async () => {
      const { integrationId, issue, ref } = await linkedTicket();
      const sup = world.linear.state.teamByKey('SUP')!;
      world.linear.simulate.updateIssue(issue.id, { teamId: sup.id, stateName: 'Todo' });
      await assert.rejects(
        world.activities.readLinkSnapshot(ref),
        linearFailure(
          linearFailureTypes.teamNotAllowed,
          true,
          /in the Linear team SUP, whose issues this installation/,
        ),
      );
      // Once an admin allows the team, the same link reads again.
      await db()
        .update(integrationConfigs)
        .set({ config: { teamId: world.teamId, additionalTeamIds: [sup.id] } })
        .where(eq(integrationConfigs.id, integrationId));
      assert.equal((await world.activities.readLinkSnapshot(ref)).link, 'active');
    });

    it('an installation with no team chosen keeps syncing the links it made before teams were checked', async () => {
      const { integrationId, issue, ref } = await linkedTicket();
      await db().update(integrationConfigs).set({ config: {} }).where(eq(integrationConfigs.id, integrationId));
      world.linear.simulate.updateIssue(issue.id, {
        teamId: world.linear.state.teamByKey('SUP')!.id,
        stateName: 'Todo',
      });
      assert.equal((await world.activities.readLinkSnapshot(ref)).link, 'active');
    });
  });

  describe('writing both sides', () => {
    it('updateLinearIssue writes state, priority and the assignee matched by email', async () => {
      const linus = await memberKnownToLinear(world, 'Linus Torvalds');
      const { issue, ref } = await linkedTicket();
      const done = world.linear.state.stateByName(world.teamId, 'Done')!;
      const result = await world.activities.updateLinearIssue({
        ...ref,
        changes: { stateId: done.id, priority: 2, assigneeEmail: linus.email.toUpperCase() },
      });
      const stored = world.linear.state.issue(issue.id);
      assert.equal(stored.stateId, done.id);
      assert.equal(stored.priority, 2);
      assert.equal(world.linear.state.users.get(stored.assigneeId!)?.email, linus.email);
      assert.equal(result.updatedAt, stored.updatedAt.toISOString());

      // An email no Linear user has is written as unassigned (the merge expects exactly that).
      await world.activities.updateLinearIssue({ ...ref, changes: { assigneeEmail: 'nobody@else.test' } });
      assert.equal(world.linear.state.issue(issue.id).assigneeId, null);
    });

    it('updateTicketFromLinear writes as the integration, and writes nothing when the values are already there', async () => {
      const grace = await memberKnownToLinear(world, 'Grace Hopper');
      const { integrationId, ticket, ref } = await linkedTicket();
      const changes = { status: 'solved', priority: 'high', assigneeEmail: grace.email } as const;
      await world.activities.updateTicketFromLinear({ ...ref, changes });
      const after = await currentTicket(ticket.id);
      assert.equal(after.status, 'solved');
      assert.equal(after.priority, 'high');
      assert.equal(after.assigneeId, grace.userId);
      const events = await db().select().from(ticketEvents).where(eq(ticketEvents.supportRequestId, ticket.id));
      const update = events.find((e) => e.type === 'ticket.updated')!;
      assert.equal(update.actorType, 'integration');
      assert.equal(update.actorId, integrationId);

      await world.activities.updateTicketFromLinear({ ...ref, changes });
      assert.equal((await currentTicket(ticket.id)).version, after.version, 'a retry changes nothing');
      const again = await db().select().from(ticketEvents).where(eq(ticketEvents.supportRequestId, ticket.id));
      assert.equal(again.length, events.length);

      await world.activities.updateTicketFromLinear({ ...ref, changes: { assigneeEmail: 'stranger@else.test' } });
      assert.equal((await currentTicket(ticket.id)).assigneeId, null, 'an unknown email unassigns');
    });

    it('updateTicketFromLinear reapplies its change when someone edits the ticket between its read and write', async () => {
      const { ticket, ref } = await linkedTicket();
      const { pool } = testDatabase();
      const agent = await pool.connect();
      try {
        // An agent's edit holds the ticket locked: the activity reads the version, then waits on the lock.
        await agent.query('begin');
        await agent.query('select 1 from support_requests where id = $1 for update', [ticket.id]);
        const applying = world.activities.updateTicketFromLinear({ ...ref, changes: { status: 'pending' } });
        await waitForLockWaiter(ticket.id);
        await agent.query("update support_requests set version = version + 1, tags = '{vip}' where id = $1", [
          ticket.id,
        ]);
        await agent.query('commit');
        await applying; // its write met a newer version (409), read again and applied the change
      } finally {
        agent.release();
      }
      const after = await currentTicket(ticket.id);
      assert.equal(after.status, 'pending');
      assert.deepEqual(after.tags, ['vip'], "the agent's edit stays");
      assert.equal(after.version, ticket.version + 2);
    });
    it('updateTicketFromLinear writes nothing and answers stale when a field it writes changed since the plan read it', async () => {
      const { ticket, ref } = await linkedTicket({}, { priority: 'normal' });
      const expected = { status: 'open', priority: 'normal', assigneeEmail: null } as const;
      // An agent solves the ticket after the plan read it as open.
      const solved = await updateTicket(db(), world.org.scope, ticket.id, {
        version: ticket.version,
        status: 'solved',
      });
      const result = await world.activities.updateTicketFromLinear({
        ...ref,
        changes: { status: 'pending' },
        expected,
      });
      assert.equal(result.stale, true);
      assert.equal((await currentTicket(ticket.id)).version, solved.version, 'nothing written');

      // A change to another field is no reason to stop; nor is our own value already there (a retried write).
      const tagged = await updateTicket(db(), world.org.scope, ticket.id, { version: solved.version, tags: ['vip'] });
      const planned = { ...expected, status: 'solved' } as const;
      const applied = await world.activities.updateTicketFromLinear({
        ...ref,
        changes: { priority: 'urgent' },
        expected: planned,
      });
      assert.equal(applied.stale, undefined);
      assert.equal((await currentTicket(ticket.id)).priority, 'urgent');
      const retried = await world.activities.updateTicketFromLinear({
        ...ref,
        changes: { priority: 'urgent' },
        expected: planned,
      });
      assert.equal(retried.stale, undefined);
      assert.equal((await currentTicket(ticket.id)).version, tagged.version + 1);
    });
  });

  describe('sync state and link status', () => {
    const synced = (at: string): SyncedValues => ({
      ticket: { status: 'pending', priority: 'high', assigneeEmail: null },
      linear: { stateId: 's1', priority: 2, assigneeEmail: null },
      issueUpdatedAt: at,
      at,
    });

    it('recordSyncState stores the synced values, marks the link synced and records conflicts once', async () => {
      const { issue, ref } = await linkedTicket();
      await world.activities.markLinkFailed({ ...ref, code: 'x', reason: 'earlier failure' });
      const conflict = {
        field: 'status' as const,
        ticketValue: 'pending',
        linearValue: 's2',
        winner: 'linear' as const,
        policy: 'latest' as const,
        ticketChangedAt: '2025-01-01T10:00:00.000Z',
        linearChangedAt: '2025-01-01T10:00:05.000Z',
      };
      const input = { ...ref, synced: synced('2025-01-01T10:00:06.000Z'), issue, conflicts: [conflict] };
      await world.activities.recordSyncState(input);
      await world.activities.recordSyncState(input); // the completion was lost: the activity runs again

      const [row] = await db().select().from(externalSyncRecords).where(eq(externalSyncRecords.id, ref.linkId));
      assert.equal(row!.syncStatus, 'synced');
      assert.equal(row!.lastError, null);
      assert.ok(row!.lastSyncAt);
      assert.deepEqual(row!.state, { lastSynced: input.synced, issue, origin: 'created' });
      const conflicts = await db()
        .select()
        .from(externalSyncConflicts)
        .where(eq(externalSyncConflicts.syncRecordId, ref.linkId));
      assert.equal(conflicts.length, 1);
      assert.equal(conflicts[0]!.winner, 'external');
      assert.equal(conflicts[0]!.externalValue, 's2');
      assert.equal(conflicts[0]!.ticketChangedAt?.toISOString(), conflict.ticketChangedAt);

      const snapshot = await world.activities.readLinkSnapshot(ref);
      assert.ok(snapshot.link === 'active');
      assert.deepEqual(snapshot.lastSynced, input.synced);
    });

    it('a link call that meets the rate limit shows the wait on the link and degrades the installation, until a retry gets through', async () => {
      const { integrationId, ticket, ref } = await linkedTicket();
      const scope = world.org.scope;
      const view = async () => (await listLinks({ db: db() }, scope, ticket.id))[0]!;
      const health = async () => (await getIntegration(db(), scope, integrationId)).health;
      assert.deepEqual([(await view()).syncStatus, (await view()).nextAttemptAt], ['pending', null]);
      assert.notEqual((await health()).status, 'degraded');

      world.linear.failures.rateLimitNext(1, { resetInMs: 3_600_000 });
      const before = Date.now();
      let delay = 0;
      await assert.rejects(world.activities.readLinkSnapshot(ref), (err: unknown) => {
        linearFailure(linearFailureTypes.rateLimited, false)(err);
        delay = Number((err as ApplicationFailure).nextRetryDelay);
        return true;
      });
      const waiting = await view();
      assert.equal(waiting.syncStatus, 'rate_limited');
      // The next attempt is when Temporal retries the activity: after the wait the budget needs, not the reset.
      const next = Date.parse(waiting.nextAttemptAt!);
      assert.ok(next >= before + delay && next <= Date.now() + delay, `next attempt ${waiting.nextAttemptAt}`);
      assert.ok(delay > 30_000 && delay <= 60_000, `waits ${delay} ms`);
      const degraded = await health();
      assert.deepEqual([degraded.status, degraded.rateLimitedLinks], ['degraded', 1]);

      // Temporal's retry of the activity gets through (the budget refilled): the link waits no longer.
      forgetBudgets();
      const retried = (await new MockActivityEnvironment({ attempt: 2 }).run(
        world.activities.readLinkSnapshot,
        ref,
      )) as LinkSnapshot;
      assert.equal(retried.link, 'active');
      assert.deepEqual([(await view()).syncStatus, (await view()).nextAttemptAt], ['pending', null]);
      assert.equal((await health()).rateLimitedLinks, 0);

      // A link that fails for good while it waited shows the failure, not the wait.
      world.linear.failures.rateLimitNext(1, { resetInMs: 3_600_000 });
      await assert.rejects(world.activities.updateLinearIssue({ ...ref, changes: { priority: 1 } }));
      assert.equal((await view()).syncStatus, 'rate_limited');
      await world.activities.markLinkFailed({ ...ref, code: linearFailureTypes.authRevoked, reason: 'revoked' });
      assert.deepEqual([(await view()).syncStatus, (await view()).nextAttemptAt], ['failed', null]);
      assert.equal((await health()).rateLimitedLinks, 0);
    });

    it('markLinkFailed pauses the link and tells admins once; markLinkPending resumes it', async () => {
      const { integrationId, ref } = await linkedTicket();
      const failed = { ...ref, code: linearFailureTypes.authRevoked, reason: 'Linear refused the token' };
      await world.activities.markLinkFailed(failed);
      await world.activities.markLinkFailed(failed);
      const [row] = await db().select().from(externalSyncRecords).where(eq(externalSyncRecords.id, ref.linkId));
      assert.equal(row!.syncStatus, 'failed');
      assert.match(row!.lastError ?? '', /Linear refused the token/);
      const events = await db()
        .select()
        .from(integrationEvents)
        .where(eq(integrationEvents.integrationConfigId, integrationId));
      assert.deepEqual(
        events.map((e) => [e.type, (e.payload as { code: string }).code]),
        [['linear.link_failed', 'LinearAuthRevoked']],
      );
      const [installation] = await db()
        .select()
        .from(integrationConfigs)
        .where(eq(integrationConfigs.id, integrationId));
      assert.match(installation!.lastError ?? '', /refused the token/);
      assert.ok(installation!.lastErrorAt);

      await world.activities.markLinkPending(ref);
      const [resumed] = await db().select().from(externalSyncRecords).where(eq(externalSyncRecords.id, ref.linkId));
      assert.equal(resumed!.syncStatus, 'pending');
      assert.equal(resumed!.lastError, null);
    });
  });

  describe('comments', () => {
    it('mirrors a public reply once, attributed to its author, and finds its mirror after a lost answer', async () => {
      const { ticket, issue, ref } = await linkedTicket();
      const ada = await memberKnownToLinear(world, 'Ada Lovelace', { inLinear: false });
      const comment = await addComment(
        db(),
        { ...world.org.scope, actor: { type: 'user', id: ada.userId }, userId: ada.userId },
        ticket.id,
        { body: 'We shipped a fix, please retry.', isPublic: true },
      );
      const first = await world.activities.mirrorTicketComment({ ...ref, commentId: comment.id });
      assert.equal(first.linearCommentId, mirroredCommentId(ref.linkId, comment.id));
      const mirrored = world.linear.state.comment(first.linearCommentId!);
      assert.equal(mirrored.issueId, issue.id);
      assert.equal(
        mirrored.body,
        `**Ada Lovelace** replied on ticket #${ticket.number}:\n\nWe shipped a fix, please retry.`,
      );
      assert.deepEqual(await world.activities.mirrorTicketComment({ ...ref, commentId: comment.id }), first);

      // The comment was created but the mapping never written (the activity died): the retry finds it by its id.
      await db().delete(externalCommentLinks).where(eq(externalCommentLinks.syncRecordId, ref.linkId));
      assert.deepEqual(await world.activities.mirrorTicketComment({ ...ref, commentId: comment.id }), first);
      assert.equal(world.linear.countCalls('commentCreate'), 1);
      assert.equal(world.linear.state.issueComments(issue.id).length, 1);
    });

    it('copies no reply to an issue that moved to a team the installation may not link (LinearTeamNotAllowed)', async () => {
      const { ticket, issue, ref } = await linkedTicket();
      const sup = world.linear.state.teamByKey('SUP')!;
      world.linear.simulate.updateIssue(issue.id, { teamId: sup.id, stateName: 'Todo' });
      const reply = await addComment(db(), world.org.scope, ticket.id, {
        body: 'Salary details inside',
        isPublic: true,
      });
      await assert.rejects(
        world.activities.mirrorTicketComment({ ...ref, commentId: reply.id }),
        linearFailure(linearFailureTypes.teamNotAllowed, true, /was not copied/),
      );
      assert.equal(world.linear.state.issueComments(issue.id).length, 0, 'nothing reached the private team');
    });

    it('mirrors internal notes only when the installation says all, and never comments that came from Linear', async () => {
      const { ticket, ref } = await linkedTicket();
      const note = await addComment(db(), world.org.scope, ticket.id, {
        body: 'Customer is on the old plan',
        isPublic: false,
      });
      assert.deepEqual(await world.activities.mirrorTicketComment({ ...ref, commentId: note.id }), {
        linearCommentId: null,
      });
      await db()
        .update(integrationConfigs)
        .set({ config: { teamId: world.teamId, commentsToLinear: 'all' } })
        .where(eq(integrationConfigs.organizationId, world.org.organizationId));
      const { linearCommentId } = await world.activities.mirrorTicketComment({ ...ref, commentId: note.id });
      assert.match(world.linear.state.comment(linearCommentId!).body, /added an internal note on ticket #\d+:/);

      const fromLinear = await addComment(
        db(),
        world.org.scope,
        ticket.id,
        { body: 'from Linear', isPublic: false },
        { source: 'linear', externalId: 'x', author: { displayName: 'Grace via Linear' } },
      );
      assert.deepEqual(await world.activities.mirrorTicketComment({ ...ref, commentId: fromLinear.id }), {
        linearCommentId: null,
      });
      assert.equal(world.linear.countCalls('commentCreate'), 1);
    });

    it('imports a Linear comment once as "Name via Linear", and skips our own mirrors coming back', async () => {
      const { ticket, issue, ref } = await linkedTicket();
      const linear = world.linear.simulate.createComment(issue.id, 'Root cause: a missing index.');
      const payload = {
        id: linear.id,
        body: linear.body,
        authorName: 'Grace Hopper',
        authorId: linear.userId,
        createdAt: linear.createdAt.toISOString(),
      };
      const first = await world.activities.importLinearComment({ ...ref, comment: payload });
      assert.ok(first.ticketCommentId);
      assert.deepEqual(await world.activities.importLinearComment({ ...ref, comment: payload }), first);
      const comments = await db().select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
      assert.equal(comments.length, 1);
      assert.equal(comments[0]!.authorDisplayName, 'Grace Hopper via Linear');
      assert.equal(comments[0]!.isPublic, false, 'internal by default');
      assert.equal(comments[0]!.source, 'linear');
      assert.equal(comments[0]!.externalId, linear.id);

      // Our mirror of a ticket comment, reported back by Linear's webhook: with or without its mapping row.
      const reply = await addComment(db(), world.org.scope, ticket.id, { body: 'Thanks!', isPublic: true });
      const { linearCommentId } = await world.activities.mirrorTicketComment({ ...ref, commentId: reply.id });
      const echo = { ...payload, id: linearCommentId!, body: 'Thanks!' };
      assert.deepEqual(await world.activities.importLinearComment({ ...ref, comment: echo }), {
        ticketCommentId: null,
      });
      await db().delete(externalCommentLinks).where(eq(externalCommentLinks.externalCommentId, linearCommentId!));
      assert.deepEqual(await world.activities.importLinearComment({ ...ref, comment: echo }), {
        ticketCommentId: null,
      });
      const after = await db().select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
      assert.equal(after.length, 2, 'the original comment and the reply, no echo');
    });

    it('never imports into one ticket what we mirrored from another ticket linked to the same issue', async () => {
      const { integrationId, ticket, issue, ref } = await linkedTicket({ commentsToLinear: 'all' });
      const other = await makeTicket(world, { subject: 'another customer, same bug' });
      const otherRef = await linkTo(other.id, integrationId, issue);
      const note = await addComment(db(), world.org.scope, ticket.id, {
        body: 'Customer is on plan X.',
        isPublic: false,
      });
      const { linearCommentId } = await world.activities.mirrorTicketComment({ ...ref, commentId: note.id });
      const echo = { id: linearCommentId!, body: 'Customer is on plan X.', authorName: 'Switchboard', authorId: null };
      const createdAt = new Date().toISOString();
      assert.deepEqual(await world.activities.importLinearComment({ ...otherRef, comment: { ...echo, createdAt } }), {
        ticketCommentId: null,
      });
      // Nor at reconcile, and nor while the mirror's mapping row is not written yet (known by its derived id).
      await db().delete(externalCommentLinks).where(eq(externalCommentLinks.externalCommentId, linearCommentId!));
      const snapshot = await world.activities.readLinkSnapshot(otherRef);
      assert.ok(snapshot.link === 'active');
      assert.deepEqual(
        snapshot.unmappedLinearComments.map((c) => c.id),
        [],
      );
      assert.deepEqual(await world.activities.importLinearComment({ ...otherRef, comment: { ...echo, createdAt } }), {
        ticketCommentId: null,
      });
      assert.deepEqual(
        await db().select().from(ticketComments).where(eq(ticketComments.supportRequestId, other.id)),
        [],
      );
      // A comment written in Linear still reaches both tickets.
      const real = world.linear.simulate.createComment(issue.id, 'Fix deployed.');
      const payload = { id: real.id, body: real.body, authorName: 'Grace', authorId: null, createdAt };
      assert.ok((await world.activities.importLinearComment({ ...ref, comment: payload })).ticketCommentId);
      assert.ok((await world.activities.importLinearComment({ ...otherRef, comment: payload })).ticketCommentId);
    });

    it('imports as public replies or not at all, as configured', async () => {
      const { ticket, issue, ref } = await linkedTicket({ commentsFromLinear: 'public' });
      const c = world.linear.simulate.createComment(issue.id, 'Fixed.');
      const comment = { id: c.id, body: c.body, authorName: 'Grace', authorId: null, createdAt: '' };
      const { ticketCommentId } = await world.activities.importLinearComment({ ...ref, comment });
      const [row] = await db().select().from(ticketComments).where(eq(ticketComments.id, ticketCommentId!));
      assert.equal(row!.isPublic, true);

      await db()
        .update(integrationConfigs)
        .set({ config: { teamId: world.teamId, commentsFromLinear: 'none' } })
        .where(eq(integrationConfigs.organizationId, world.org.organizationId));
      const other = world.linear.simulate.createComment(issue.id, 'Another.');
      assert.deepEqual(await world.activities.importLinearComment({ ...ref, comment: { ...comment, id: other.id } }), {
        ticketCommentId: null,
      });
      assert.equal(
        (await db().select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id))).length,
        1,
      );
    });
  });

  describe('routeTicketEventToLinear', () => {
    it('returns quickly when the organisation has no Linear installation', async () => {
      const ticket = await makeTicket(world);
      const event = syntheticTicketEvent(world.org.organizationId, ticket.id, 1, 'ticket.updated');
      const env = new MockActivityEnvironment({ taskQueue: 'x.linear' });
      assert.deepEqual(await env.run(world.activities.routeTicketEventToLinear, event), { installations: [] });
    });

    it("signals each link's sync workflow (starting it) and reports the installations' rules", async () => {
      const temporal = await testTemporal();
      const activities = createLinearActivities({ ...world.deps, temporalClient: temporal.client });
      const { integrationId, ticket, issue } = await linkedTicket({
        autoCreateRules: [{ tags: ['bug'] }],
      });
      const other = await makeInstallation(world, 'apiKey', { autoCreateIssues: true });
      const ticketsQueue = uniqueTaskQueue('linear-route');
      const event = statusChanged(syntheticTicketEvent(world.org.organizationId, ticket.id, 7, 'ticket.updated'));

      const env = new MockActivityEnvironment({ taskQueue: `${ticketsQueue}.linear` });
      const routed = (await env.run(activities.routeTicketEventToLinear, event)) as Awaited<
        ReturnType<typeof activities.routeTicketEventToLinear>
      >;
      assert.deepEqual(
        routed.installations.sort((a, b) => Number(b.linked) - Number(a.linked)),
        [
          { integrationId, autoCreateAll: false, rules: [{ tags: ['bug'] }], linked: true },
          { integrationId: other, autoCreateAll: true, rules: [], linked: false },
        ],
      );

      const handle = temporal.client.workflow.getHandle(workflowIds.linearSync(ticket.id, issue.id));
      try {
        const description = await handle.describe();
        assert.equal(description.taskQueue, ticketsQueue, 'sync workflows run on the tickets queue');
        assert.equal(description.type, 'linearSyncWorkflow');
        assert.equal(description.status.name, 'RUNNING');
        assert.equal(description.typedSearchAttributes.get(searchAttributes.IntegrationType), 'linear');
        // A second event for the same link signals the same workflow.
        await env.run(activities.routeTicketEventToLinear, { ...event, id: 8 });
        // Not: an event that cannot change the link, nor the echo of the link's own write.
        await env.run(activities.routeTicketEventToLinear, { ...event, id: 9, type: 'ticket.status_changed' as const });
        await env.run(activities.routeTicketEventToLinear, {
          ...event,
          id: 10,
          actor: { type: 'integration' as const, id: integrationId },
        });
        const history = await handle.fetchHistory();
        const signals = history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes) ?? [];
        assert.equal(signals.length, 2);
      } finally {
        await handle.terminate('test done');
      }
    });

    it('does not let a rule link a ticket again once someone unlinked its issue', async () => {
      const { integrationId, ticket, ref } = await linkedTicket({ autoCreateIssues: true });
      const event = syntheticTicketEvent(world.org.organizationId, ticket.id, 11, 'ticket.updated');
      const env = new MockActivityEnvironment({ taskQueue: `${uniqueTaskQueue('linear-unlinked')}.linear` });
      const route = async () =>
        (
          (await env.run(world.activities.routeTicketEventToLinear, event)) as {
            installations: Array<{ linked: boolean }>;
          }
        ).installations;
      // The domain's unlink, without a Temporal client to signal (the workflow would notice the row is gone).
      const domainDeps = { db: db(), temporal: null } as unknown as LinearDeps;
      await unlink(domainDeps, world.org.scope, ticket.id, ref.linkId);
      assert.deepEqual(
        (await route()).map((i) => i.linked),
        [true],
        'counted as linked: the automatic issue is not created again',
      );
      // Another ticket of the organisation, never linked, still gets its automatic issue.
      const fresh = await makeTicket(world, { subject: 'never linked' });
      const freshEvent = syntheticTicketEvent(world.org.organizationId, fresh.id, 12, 'ticket.updated');
      const routed = (await env.run(world.activities.routeTicketEventToLinear, freshEvent)) as {
        installations: Array<{ integrationId: string; linked: boolean }>;
      };
      assert.deepEqual(routed.installations, [{ integrationId, autoCreateAll: true, rules: [], linked: false }]);
    });

    it('derives the tickets queue from the Linear queue', () => {
      assert.equal(ticketsTaskQueueFor('linear'), 'tickets');
      assert.equal(ticketsTaskQueueFor('t-123.linear'), 't-123');
      // As a local activity of the ticket workflow it already runs on the tickets queue.
      assert.equal(ticketsTaskQueueFor('tickets-abc'), 'tickets-abc');
    });
  });
});

/** The event as the domain writes it for a status change, which every link syncs. */
function statusChanged(event: DispatchedTicketEvent): DispatchedTicketEvent {
  const { ticket } = event.payload as { ticket: { status: string } };
  return { ...event, payload: { ticket, changes: { status: { from: 'new', to: ticket.status } } } };
}

/** Until a session of this test database waits for a lock (the activity blocked on the agent's row lock). */
async function waitForLockWaiter(ticketId: string) {
  const { pool } = testDatabase();
  for (let i = 0; i < 200; i++) {
    const { rows } = await pool.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
    );
    if (rows[0].n > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`nothing waited for the lock on ticket ${ticketId}`);
}
