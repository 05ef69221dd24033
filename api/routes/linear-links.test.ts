import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { externalSyncConflicts, externalSyncRecords } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { normaliseIssueRef } from '../../domain/linear/links.ts';
import { linearActivityConfig } from '../../packages/integrations/linear/server.ts';
import { workflowIds } from '../../temporal-config/index.ts';
import { createLinearFake, type LinearFake } from '../../test/fakes/linear/server.ts';
import { addTestMember, createTestOrganization, type TestUser } from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import { eventually, type RunningWorker, testTemporal } from '../../test/support/temporal.ts';
import { createTicket, insertLink, type LinearTestApi, signalsOf, startLinearTestApi } from './linear-test-support.ts';

describe('Linear API: ticket links', () => {
  let linear: LinearFake;
  let api: LinearTestApi;
  let admin: TestUser;
  let agent: TestUser;
  let integrationId: string;

  before(async () => {
    linear = await createLinearFake();
    api = await startLinearTestApi(linear);
    admin = await createTestOrganization({ api });
    agent = await addTestMember(admin.organizationId, { role: 'agent', api });
    const created = await admin.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
    integrationId = created.body.id;
  });
  afterEach(() => linear.assertNoRejectedOperations());
  after(async () => {
    await api?.close();
    await linear?.close();
  });

  const linksPath = (ticketId: string) => `/api/tickets/${ticketId}/linear-links`;

  describe('reading, unlinking and retrying', () => {
    it('lists a ticket’s links with the issue as last seen and the latest 20 conflicts, newest first', async () => {
      const ticketId = await createTicket(agent);
      const issueId = randomUUID();
      const linkId = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId,
        issue: { id: issueId, identifier: 'ENG-5', title: 'Checkout fails' },
      });
      await testDatabase()
        .db.insert(externalSyncConflicts)
        .values(
          Array.from({ length: 25 }, (_, i) => ({
            organizationId: admin.organizationId,
            syncRecordId: linkId,
            field: 'status',
            ticketValue: `ticket-${i}`,
            externalValue: `linear-${i}`,
            winner: i % 2 === 0 ? 'ticket' : 'external',
            policy: 'latest',
            ticketChangedAt: new Date(Date.UTC(2026, 10, 1, 10, i)),
            externalChangedAt: i === 24 ? null : new Date(Date.UTC(2026, 10, 1, 11, i)),
          })),
        );
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer', api });
      const response = await viewer.fetch('GET', linksPath(ticketId));
      assert.equal(response.status, 200);
      assert.equal(response.body.data.length, 1);
      const [link] = response.body.data;
      assert.equal(link.id, linkId);
      assert.equal(link.integrationId, integrationId);
      assert.equal(link.issueId, issueId);
      assert.equal(link.identifier, 'ENG-5');
      assert.equal(link.title, 'Checkout fails');
      assert.deepEqual(link.state, { name: 'Todo', type: 'unstarted' });
      assert.deepEqual(link.assignee, { name: 'Grace', email: 'grace@acme.test' });
      assert.equal(link.syncStatus, 'synced');
      assert.equal(link.conflicts.length, 20);
      assert.equal(link.conflicts[0].ticketValue, 'ticket-24');
      assert.equal(link.conflicts[0].winner, 'ticket');
      assert.equal(link.conflicts[1].winner, 'linear');
      // Both sides' change times, as the latest-wins policy compared them (Linear's unknown for the newest here).
      assert.equal(link.conflicts[0].ticketChangedAt, '2026-11-01T10:24:00.000Z');
      assert.equal(link.conflicts[0].linearChangedAt, null);
      assert.equal(link.conflicts[1].ticketChangedAt, '2026-11-01T10:23:00.000Z');
      assert.equal(link.conflicts[1].linearChangedAt, '2026-11-01T11:23:00.000Z');
      assert.equal(link.conflicts[19].ticketValue, 'ticket-5');
    });

    it('answers 404 for a ticket that is not there or not the caller’s organisation’s', async () => {
      const ticketId = await createTicket(agent);
      const stranger = await createTestOrganization({ api });
      assert.equal((await stranger.fetch('GET', linksPath(ticketId))).status, 404);
      assert.equal((await agent.fetch('GET', linksPath(randomUUID()))).status, 404);
      const create = await stranger.fetch('POST', linksPath(ticketId), { action: 'link', issue: 'ENG-1' });
      assert.equal(create.status, 404);
    });

    it('unlinks: the row goes (a workflow that is not running needs no word), another organisation gets 404', async () => {
      const ticketId = await createTicket(agent);
      const issueId = randomUUID();
      const linkId = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId,
        issue: { id: issueId, identifier: 'ENG-6' },
      });
      const stranger = await createTestOrganization({ api });
      assert.equal((await stranger.fetch('DELETE', `${linksPath(ticketId)}/${linkId}`)).status, 404);
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer', api });
      assert.equal((await viewer.fetch('DELETE', `${linksPath(ticketId)}/${linkId}`)).status, 403);
      // A link whose workflow is not running: nothing to tell, still unlinked.
      assert.equal((await agent.fetch('DELETE', `${linksPath(ticketId)}/${linkId}`)).status, 204);
      const rows = await testDatabase().db.select().from(externalSyncRecords).where(eq(externalSyncRecords.id, linkId));
      assert.equal(rows.length, 0);
      assert.equal((await agent.fetch('DELETE', `${linksPath(ticketId)}/${linkId}`)).status, 404);
    });

    it('retries only a failed link, resuming its workflow', async () => {
      const ticketId = await createTicket(agent);
      const issueId = randomUUID();
      const synced = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId,
        issue: { id: randomUUID(), identifier: 'ENG-7' },
      });
      const refused = await agent.fetch('POST', `${linksPath(ticketId)}/${synced}/retry`, {});
      assert.equal(refused.status, 409);

      const failed = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId,
        issue: { id: issueId, identifier: 'ENG-8' },
        syncStatus: 'failed',
        lastError: 'Linear: Entity not found: Issue',
      });
      const response = await agent.fetch('POST', `${linksPath(ticketId)}/${failed}/retry`, {});
      assert.equal(response.status, 202);
      assert.equal(response.body.id, failed);
      assert.deepEqual(await signalsOf(workflowIds.linearSync(ticketId, issueId)), ['resume']);
      const stranger = await createTestOrganization({ api });
      assert.equal((await stranger.fetch('POST', `${linksPath(ticketId)}/${failed}/retry`, {})).status, 404);
    });

    it('syncs a link now: its workflow is told to reconcile at once; a failed link is a 409 (retry it instead)', async () => {
      const ticketId = await createTicket(agent);
      const issueId = randomUUID();
      const linkId = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId,
        issue: { id: issueId, identifier: 'ENG-9' },
      });
      const response = await agent.fetch('POST', `${linksPath(ticketId)}/${linkId}/sync`, {});
      assert.equal(response.status, 202);
      assert.equal(response.body.id, linkId);
      assert.deepEqual(await signalsOf(workflowIds.linearSync(ticketId, issueId)), ['reconcileNow']);

      const failed = await insertLink({
        organizationId: admin.organizationId,
        ticketId,
        integrationId,
        issue: { id: randomUUID(), identifier: 'ENG-10' },
        syncStatus: 'failed',
        lastError: 'Linear: Entity not found: Issue',
      });
      assert.equal((await agent.fetch('POST', `${linksPath(ticketId)}/${failed}/sync`, {})).status, 409);
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer', api });
      assert.equal((await viewer.fetch('POST', `${linksPath(ticketId)}/${linkId}/sync`, {})).status, 403);
      const stranger = await createTestOrganization({ api });
      assert.equal((await stranger.fetch('POST', `${linksPath(ticketId)}/${linkId}/sync`, {})).status, 404);
    });

    it('checks the request body, naming the field', async () => {
      const ticketId = await createTicket(agent);
      const noAction = await agent.fetch('POST', linksPath(ticketId), { issue: 'ENG-1' });
      assert.equal(noAction.status, 422);
      assert.match(noAction.body.error.details[0].path, /^body\.action/);
      const noIssue = await agent.fetch('POST', linksPath(ticketId), { action: 'link' });
      assert.equal(noIssue.status, 422);
      assert.equal(noIssue.body.error.details[0].path, 'body.issue');
      const extra = await agent.fetch('POST', linksPath(ticketId), { action: 'create', assignee: 'me' });
      assert.equal(extra.status, 422);
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer', api });
      assert.equal((await viewer.fetch('POST', linksPath(ticketId), { action: 'create' })).status, 403);
    });

    it('refuses an idempotency key that could name one of the system’s own workflows, starting and writing nothing', async () => {
      const ticketId = await createTicket(agent);
      const creates = linear.countCalls('issueCreate');
      for (const key of [`auto/${integrationId}`, 'link/ENG-5', 'a b', 'x'.repeat(101)]) {
        const response = await agent.fetch('POST', linksPath(ticketId), { action: 'create', idempotencyKey: key });
        assert.equal(response.status, 422, key);
        assert.equal(response.body.error.details[0].path, 'body.idempotencyKey');
        const temporal = await testTemporal();
        await assert.rejects(temporal.client.workflow.getHandle(workflowIds.linearIssue(ticketId, key)).describe());
      }
      const rows = await testDatabase()
        .db.select()
        .from(externalSyncRecords)
        .where(eq(externalSyncRecords.supportRequestId, ticketId));
      assert.deepEqual(rows, []);
      assert.equal(linear.countCalls('issueCreate'), creates);
    });

    it('asks to connect Linear first, and to choose when several installations are connected', async () => {
      const lonely = await createTestOrganization({ api });
      const ticketId = await createTicket(lonely);
      const none = await lonely.fetch('POST', linksPath(ticketId), { action: 'create' });
      assert.equal(none.status, 409);
      assert.match(none.body.error.message, /connect Linear first/);

      const first = await lonely.fetch('POST', '/api/linear/installations', { apiKey: linear.apiKey });
      await lonely.fetch('POST', '/api/linear/installations', { apiKey: linear.issueApiKey('grace@acme.test') });
      const several = await lonely.fetch('POST', linksPath(ticketId), { action: 'link', issue: 'ENG-1' });
      assert.equal(several.status, 422);
      assert.equal(several.body.error.details[0].path, 'body.integrationId');
      const foreign = await lonely.fetch('POST', linksPath(ticketId), {
        action: 'link',
        issue: 'ENG-1',
        integrationId,
      });
      assert.equal(foreign.status, 422);
      assert.equal(foreign.body.error.details[0].path, 'body.integrationId');

      await lonely.fetch('POST', `/api/linear/installations/${first.body.id}/disconnect`, {});
      const disconnected = await lonely.fetch('POST', linksPath(ticketId), {
        action: 'link',
        issue: 'ENG-1',
        integrationId: first.body.id,
      });
      assert.equal(disconnected.status, 409);
    });

    it('reads an issue reference the same way however it is written', () => {
      assert.equal(normaliseIssueRef('eng-12'), 'ENG-12');
      assert.equal(normaliseIssueRef(' ENG-12 '), 'ENG-12');
      assert.equal(normaliseIssueRef('https://linear.app/acme/issue/ENG-12/checkout-fails'), 'ENG-12');
      assert.equal(normaliseIssueRef('https://linear.app/acme/issue/eng-12'), 'ENG-12');
    });
  });

  describe('creating and linking issues (with a worker)', () => {
    let worker: RunningWorker;
    let linearWorker: RunningWorker;
    const startLinearWorker = async () =>
      (await testTemporal()).startLinearWorker({
        db: testDatabase().db,
        ticketsTaskQueue: api.taskQueue,
        config: linearActivityConfig(api.deps.config),
      });

    before(async function () {
      this.timeout(120_000);
      const temporal = await testTemporal();
      worker = await temporal.startWorker({
        db: testDatabase().db,
        taskQueue: api.taskQueue,
        webhooks: false,
        linear: false,
      });
      linearWorker = await startLinearWorker();
    });
    after(async () => {
      await linearWorker?.stop();
      await worker?.stop();
    });

    async function configureTeam() {
      const eng = linear.state.teamByKey('ENG')!;
      const response = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
        config: { teamId: eng.id, workspace: undefined },
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
    }

    it('creates an issue from the ticket and answers the link; the same idempotency key creates nothing more', async () => {
      await configureTeam();
      const ticketId = await createTicket(agent, 'Card declined at checkout');
      const before = linear.countCalls('issueCreate');
      const key = randomUUID();
      const response = await agent.fetch('POST', linksPath(ticketId), { action: 'create', idempotencyKey: key });
      assert.equal(response.status, 201, JSON.stringify(response.body));
      assert.equal(response.body.integrationId, integrationId);
      assert.match(response.body.identifier, /^ENG-\d+$/);
      assert.equal(response.body.title, 'Card declined at checkout');
      const issue = linear.state.issue(response.body.issueId);
      assert.equal(issue.title, 'Card declined at checkout');

      const again = await agent.fetch('POST', linksPath(ticketId), { action: 'create', idempotencyKey: key });
      assert.equal(again.status, 201);
      assert.equal(again.body.id, response.body.id);
      assert.equal(linear.countCalls('issueCreate'), before + 1);

      const list = await agent.fetch('GET', linksPath(ticketId));
      assert.deepEqual(
        list.body.data.map((l: { id: string }) => l.id),
        [response.body.id],
      );
    });

    it('links an existing issue by identifier or by URL', async () => {
      const issue = linear.simulate.createIssue({ title: 'Known bug', teamKey: 'ENG' });
      const identifier = linear.state.identifier(issue);
      const ticketId = await createTicket(agent);
      const byId = await agent.fetch('POST', linksPath(ticketId), { action: 'link', issue: identifier.toLowerCase() });
      assert.equal(byId.status, 201, JSON.stringify(byId.body));
      assert.equal(byId.body.issueId, issue.id);
      assert.equal(byId.body.identifier, identifier);

      const other = await createTicket(agent);
      const byUrl = await agent.fetch('POST', linksPath(other), {
        action: 'link',
        issue: linear.state.issueUrl(issue),
      });
      assert.equal(byUrl.status, 201, JSON.stringify(byUrl.body));
      assert.equal(byUrl.body.issueId, issue.id);

      // Unlinked and linked again: a new request, not the old answer.
      assert.equal((await agent.fetch('DELETE', `${linksPath(ticketId)}/${byId.body.id}`)).status, 204);
      const relinked = await agent.fetch('POST', linksPath(ticketId), { action: 'link', issue: identifier });
      assert.equal(relinked.status, 201, JSON.stringify(relinked.body));
      assert.notEqual(relinked.body.id, byId.body.id);
    });

    it('links only issues of the installation’s teams: another team’s issue is a 422 naming the restriction, untouched, until an admin allows that team', async () => {
      await configureTeam();
      // SUP stands for a team the agents must not see (a private one): the token sees it all the same.
      const sup = linear.state.teamByKey('SUP')!;
      const secret = linear.simulate.createIssue({ title: 'Salary review', teamKey: 'SUP' });
      const identifier = linear.state.identifier(secret);
      const ticketId = await createTicket(agent);
      const attachments = () => [...linear.state.attachments.values()].filter((a) => a.issueId === secret.id).length;

      const refused = await agent.fetch('POST', linksPath(ticketId), { action: 'link', issue: identifier });
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.error.details[0].path, 'body.issue');
      assert.match(refused.body.error.message, /is not in a Linear team whose issues this installation may link/);
      assert.doesNotMatch(JSON.stringify(refused.body), /Salary review|in the Linear team/, 'nothing about the issue');
      assert.equal(attachments(), 0, 'nothing was written to the issue');
      assert.deepEqual((await agent.fetch('GET', linksPath(ticketId))).body.data, []);

      // The setting is checked: a team listed twice is refused, naming the field.
      const twice = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
        config: { additionalTeamIds: [sup.id, sup.id] },
      });
      assert.equal(twice.status, 422, JSON.stringify(twice.body));
      assert.match(JSON.stringify(twice.body.error.details), /additionalTeamIds/);
      // Agents cannot widen it themselves.
      const byAgent = await agent.fetch('PATCH', `/api/integrations/${integrationId}`, {
        config: { additionalTeamIds: [sup.id] },
      });
      assert.equal(byAgent.status, 403);

      const widened = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
        config: { additionalTeamIds: [sup.id] },
      });
      assert.equal(widened.status, 200, JSON.stringify(widened.body));
      try {
        const linked = await agent.fetch('POST', linksPath(ticketId), { action: 'link', issue: identifier });
        assert.equal(linked.status, 201, JSON.stringify(linked.body));
        assert.equal(linked.body.issueId, secret.id);
        assert.equal(attachments(), 1);
      } finally {
        await admin.fetch('PATCH', `/api/integrations/${integrationId}`, { config: { additionalTeamIds: [] } });
      }
    });

    it('answers 202 with the workflow id when Linear does not answer in time, and the link appears once it does', async function () {
      this.timeout(60_000);
      const issue = linear.simulate.createIssue({ title: 'Slow day', teamKey: 'ENG' });
      const ticketId = await createTicket(agent);
      // Nobody runs the Linear calls for a while: to the API that is Linear taking its time.
      await linearWorker.stop();
      const response = await agent.fetch('POST', linksPath(ticketId), {
        action: 'link',
        issue: linear.state.identifier(issue),
      });
      assert.equal(response.status, 202, JSON.stringify(response.body));
      assert.equal(response.body.pending, true);
      assert.match(response.body.workflowId, new RegExp(`^linear-issue/${ticketId}/link/ENG-`));
      linearWorker = await startLinearWorker();
      await eventually(
        async () => {
          const list = await agent.fetch('GET', linksPath(ticketId));
          assert.equal(list.body.data.length, 1);
          assert.equal(list.body.data[0].issueId, issue.id);
        },
        { timeoutMs: 30_000, intervalMs: 300 },
      );
    });

    it('answers 404 naming an issue Linear does not have', async () => {
      const ticketId = await createTicket(agent);
      const response = await agent.fetch('POST', linksPath(ticketId), { action: 'link', issue: 'ENG-99999' });
      assert.equal(response.status, 404, JSON.stringify(response.body));
      assert.match(response.body.error.message, /not found/i);
    });

    it('answers 409 when Linear no longer accepts the installation’s token', async () => {
      const key = linear.issueApiKey('linus@acme.test');
      const org = await createTestOrganization({ api });
      const created = await org.fetch('POST', '/api/linear/installations', { apiKey: key });
      assert.equal(created.status, 201);
      const eng = linear.state.teamByKey('ENG')!;
      await org.fetch('PATCH', `/api/integrations/${created.body.id}`, { config: { teamId: eng.id } });
      linear.failures.revokeToken(key);
      const ticketId = await createTicket(org);
      const response = await org.fetch('POST', linksPath(ticketId), { action: 'link', issue: 'ENG-1' });
      assert.equal(response.status, 409, JSON.stringify(response.body));
    });
  });
});
