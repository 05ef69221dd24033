// Slack end to end, against the strict local Slack (test/fakes/slack: every Web API call checked against Slack's
// published description, requests to us signed as Slack signs them): "Add to Slack", a ticket's message kept current
// in its channel with the ticket's events in its thread, replies, buttons, menus, modals, slash commands and
// shortcuts from Slack applied through the domain as the person who did them, retries that change nothing twice,
// Slack's rate limit honoured, and an uninstall that pauses the work until the workspace is installed again.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs, slackInbound, slackPosts, supportRequests, ticketComments } from '@switchboard/database';
import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { slackRelaySubscriber } from '../activities/slack/relay-subscriber.ts';
import { slackDepsOf } from '../api/routes/slack.ts';
import type { RelayContext } from '../common/integration-contract.ts';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';
import { relayIntegrations } from '../domain/integrations/read-integrations.ts';
import { handOverWaitingInbound } from '../domain/slack/inbound.ts';
import { createSlackFake, type Delivery } from './fakes/slack/server.ts';
import {
  addToSlack,
  freshWorkspace,
  installSlack,
  type SlackFake,
  useSlackApprover,
  useSlackEnv,
} from './slack-support.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

describe('Slack end to end (strict local Slack)', function () {
  this.timeout(120_000);
  const { db } = testDatabase();
  let slack: SlackFake;
  let restoreEnv: () => void;
  let api: TestApi;
  let pipeline: TestPipeline;
  let admin: TestUser;
  let agent: TestUser;
  let viewer: TestUser;
  let integrationId: string;
  let pipelineQueue: string;
  const run = randomUUID()
    .slice(0, 6)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, 'X');
  const team = `T0R${run}`;
  const slackIds = { admin: `U0A${run}`, agent: `U0G${run}`, viewer: `U0V${run}`, guest: `U0X${run}` };
  const channels = { support: `C0S${run}`, urgent: `C0U${run}` };

  before(async () => {
    slack = await createSlackFake({ preinstall: false });
    restoreEnv = useSlackEnv(slack);
    useSlackApprover(slack);
    const queue = uniqueTaskQueue('slack');
    pipelineQueue = queue;
    const temporal = await testTemporal();
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    pipeline = await startPipeline(queue);
    slack.setRequestUrl(`${api.baseUrl}/api/slack/events`);

    const email = (who: string) => `${who}-${run.toLowerCase()}@acme.test`;
    admin = await createTestOrganization({ role: 'admin', email: email('ada'), userName: 'Ada Lovelace' });
    agent = await addTestMember(admin.organizationId, { role: 'agent', email: email('grace'), name: 'Grace Hopper' });
    viewer = await addTestMember(admin.organizationId, { role: 'viewer', email: email('linus'), name: 'Linus T' });
    slack.addTeam({
      id: team,
      name: `Acme ${run}`,
      domain: `acme-${run.toLowerCase()}`,
      emailDomain: 'acme.test',
      users: [
        { id: slackIds.admin, name: 'ada', realName: 'Ada Lovelace', email: admin.email, isAdmin: true },
        { id: slackIds.agent, name: 'grace', realName: 'Grace Hopper', email: agent.email },
        { id: slackIds.viewer, name: 'linus', realName: 'Linus T', email: viewer.email },
        { id: slackIds.guest, name: 'gus', realName: 'Gus Guest', email: `gus-${run.toLowerCase()}@elsewhere.test` },
      ],
      channels: [
        { id: channels.support, name: 'support' },
        { id: channels.urgent, name: 'urgent' },
      ],
    });
    integrationId = await installSlack(api, admin, { teamId: team, slackUserId: slackIds.admin });
    const rules = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
      config: {
        rules: [
          { id: 'support', name: 'Everything', channelId: channels.support, kinds: ['new_ticket', 'status_change'] },
          { id: 'urgent', name: 'Urgent', channelId: channels.urgent, kinds: ['high_priority', 'sla'] },
        ],
      },
    });
    assert.equal(rules.status, 200, JSON.stringify(rules.body));
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
    restoreEnv?.();
    await slack?.close();
  });
  afterEach(() => slack.assertNoRejectedCalls());

  async function newTicket(input: Record<string, unknown> = {}) {
    const created = await agent.fetch('POST', '/api/tickets', {
      subject: `Printer on fire ${randomUUID().slice(0, 4)}`,
      requesterEmail: 'carol@customer.test',
      ...input,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: string; number: number; version: number };
  }

  /** Slack sending an event again: the same event id, with its retry headers. */
  function slackRetries(delivery: Delivery, retryReason: string) {
    return slack.sendEvent(delivery.sent.event as Record<string, unknown>, {
      teamId: team,
      eventId: delivery.eventId!,
      retryNum: 1,
      retryReason,
    });
  }

  /** The ticket's message in a channel, once it is there. */
  async function parentIn(channelId: string, ticketNumber: number) {
    return eventually(
      async () => {
        const found = slack.history(channelId).find((m) => m.text?.startsWith(`#${ticketNumber} `));
        assert.ok(found, `no message for #${ticketNumber} in ${channelId} yet`);
        return found;
      },
      { timeoutMs: 30_000 },
    );
  }

  async function ticketRow(id: string) {
    const [row] = await db.select().from(supportRequests).where(eq(supportRequests.id, id));
    return row!;
  }

  describe('connection', () => {
    it('links the workspace to the organisation, with the bot token sealed', async () => {
      const list = await viewer.fetch('GET', '/api/slack/installations');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.data.map((w: { teamId: string; connected: boolean }) => [w.teamId, w.connected]),
        [[team, true]],
      );
      const [row] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, integrationId));
      const token = slack.botTokenFor(team);
      assert.ok(!JSON.stringify(row!.credentials).includes(token), 'the token is not stored in clear');
      assert.match(row!.credentialsHint ?? '', /^xoxb…|^xoxb-…|…/);
    });

    it('refuses a workspace already linked to another organisation', async () => {
      const other = await createTestOrganization({ role: 'admin' });
      const landed = await addToSlack(api, other, { teamId: team, slackUserId: slackIds.admin });
      assert.equal(landed.searchParams.get('slack'), 'error');
      assert.equal(landed.searchParams.get('reason'), 'workspace_taken');
      const list = await other.fetch('GET', '/api/slack/installations');
      assert.deepEqual(list.body.data, []);
    });

    it('refuses a callback whose state is replayed or not this browser’s', async () => {
      const start = await admin.fetch('POST', '/api/slack/install');
      const redirect = slack.approveInstall(start.body.authorizeUrl, { teamId: team, userId: slackIds.admin });
      const noCookie = await fetch(redirect, { redirect: 'manual' });
      assert.equal(noCookie.status, 302);
      assert.match(noCookie.headers.get('location') ?? '', /slack=error/);
    });

    it('does not let an agent start an install, and refuses creating one by the generic route', async () => {
      assert.equal((await agent.fetch('POST', '/api/slack/install')).status, 403);
      const generic = await admin.fetch('POST', '/api/integrations', {
        integrationType: 'slack',
        name: 'x',
        config: {},
        credentials: { botToken: 'xoxb-1' },
      });
      assert.equal(generic.status, 422);
      assert.match(JSON.stringify(generic.body), /Add to Slack/);
    });

    it('refuses a rule that names no channel id, with the field', async () => {
      const bad = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
        config: { rules: [{ id: 'x', name: 'x', channelId: '#support', kinds: ['new_ticket'] }] },
      });
      assert.equal(bad.status, 422);
      assert.match(JSON.stringify(bad.body), /channelId/);
    });
  });

  describe('signatures', () => {
    it('refuses a request whose signature is missing, wrong or stale, and changes nothing', async () => {
      const ticket = await newTicket();
      for (const signature of ['missing', 'bad', 'stale'] as const) {
        const delivery = await slack.slashCommand(
          {
            command: '/ticket',
            text: `update ${ticket.number} status=pending`,
            userId: slackIds.agent,
            channelId: channels.support,
            teamId: team,
          },
          { signature },
        );
        assert.equal(delivery.status, 401, `${signature}: ${delivery.status}`);
      }
      await new Promise((r) => setTimeout(r, 500));
      assert.equal((await ticketRow(ticket.id)).status, 'open');
    });

    it('a replayed command (same signed request) is applied once', async () => {
      const ticket = await newTicket();
      const first = await slack.slashCommand({
        command: '/ticket',
        text: `comment ${ticket.number} checked the logs`,
        userId: slackIds.agent,
        channelId: channels.support,
        teamId: team,
      });
      assert.equal(first.status, 200);
      const replay = await slack.slashCommand(
        { command: '/ticket', text: 'ignored', userId: slackIds.agent, channelId: channels.support, teamId: team },
        { replayOf: first },
      );
      assert.equal(replay.status, 200);
      await eventually(async () => {
        const comments = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
        assert.equal(comments.length, 1);
      });
      await new Promise((r) => setTimeout(r, 1000));
      const comments = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
      assert.equal(comments.length, 1);
    });
    it('answers once the request is recorded; what could not reach its workflow then is handed over by the sweep', async () => {
      // An API whose Temporal is unreachable: the command is recorded and answered, its hand-over fails.
      const cut = await startTestApi({
        temporal: null,
        config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: pipelineQueue } }),
      });
      const ticket = await newTicket();
      try {
        slack.setRequestUrl(`${cut.baseUrl}/api/slack/events`);
        const answered = await slack.slashCommand({
          command: '/ticket',
          text: `comment ${ticket.number} handed over late`,
          userId: slackIds.agent,
          channelId: channels.support,
          teamId: team,
        });
        assert.equal(answered.status, 200, 'Slack has its answer: the row holds the work');
      } finally {
        slack.setRequestUrl(`${api.baseUrl}/api/slack/events`);
        await cut.close();
      }
      const [row] = await db.select().from(slackInbound).where(eq(slackInbound.ticketId, ticket.id));
      assert.equal(row?.status, 'received');
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(
        (await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id))).length,
        0,
      );

      const swept = await handOverWaitingInbound(slackDepsOf(api.deps), { olderThanMs: 0 });
      assert.ok(swept.handedOver >= 1 && swept.failed === 0, JSON.stringify(swept));
      await eventually(
        async () => {
          const comments = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.deepEqual(
            comments.map((c) => c.body),
            ['handed over late'],
          );
        },
        { timeoutMs: 30_000 },
      );
      // Applied: the next sweep leaves it alone.
      await eventually(async () => {
        const [after] = await db.select().from(slackInbound).where(eq(slackInbound.id, row!.id));
        assert.notEqual(after?.status, 'received');
      });
    });
  });

  describe('a ticket’s message and thread', () => {
    it('posts one message per channel, edits it as the ticket changes, and puts later events in its thread', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      assert.match(JSON.stringify(parent.blocks), /Assign to me/);
      assert.equal(slack.history(channels.urgent).filter((m) => m.text?.startsWith(`#${ticket.number} `)).length, 0);

      const changed = await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, {
        version: ticket.version,
        status: 'pending',
      });
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      await eventually(
        async () => {
          const thread = slack.thread(channels.support, parent.ts);
          assert.ok(
            thread.some((m) => /Status changed from \*Open\* to \*Pending\*/.test(m.text ?? '')),
            'status note',
          );
          const now = slack.history(channels.support).find((m) => m.ts === parent.ts)!;
          assert.match(now.text ?? '', /Pending/, 'the parent was edited in place');
        },
        { timeoutMs: 30_000 },
      );
      const comment = await agent.fetch('POST', `/api/tickets/${ticket.id}/comments`, {
        body: 'Replaced the <toner> & rebooted',
        isPublic: false,
      });
      assert.equal(comment.status, 201);
      await eventually(
        async () => {
          const note = slack.thread(channels.support, parent.ts).find((m) => /internal note/.test(m.text ?? ''));
          assert.ok(note);
          assert.match(note.text ?? '', /Replaced the &lt;toner&gt; &amp; rebooted/);
        },
        { timeoutMs: 30_000 },
      );
      assert.equal(
        slack.history(channels.support).filter((m) => m.text?.startsWith(`#${ticket.number} `)).length,
        1,
        'one parent message, however many events',
      );
      const link = await viewer.fetch('GET', `/api/tickets/${ticket.id}/slack`);
      assert.equal(link.status, 200);
      assert.equal(link.body.data[0].channelId, channels.support);
      assert.ok(link.body.data[0].permalink);
    });

    it('alerts the urgent channel when the priority is raised', async () => {
      const ticket = await newTicket();
      await parentIn(channels.support, ticket.number);
      const raised = await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, {
        version: ticket.version,
        priority: 'urgent',
      });
      assert.equal(raised.status, 200);
      await parentIn(channels.urgent, ticket.number);
    });
  });

  describe('ticket events to Slack', () => {
    it('hands a relay batch’s events for several tickets of one installation to its workflow in one signal, each ticket’s in order', async () => {
      const [a, b, c] = [await newTicket(), await newTicket(), await newTicket()];
      const at = new Date().toISOString();
      const event = (id: number, ticketId: string, type: TicketEventType): DispatchedTicketEvent => ({
        id,
        organizationId: admin.organizationId,
        ticketId,
        type,
        payload: {},
        actor: { type: 'system', id: null },
        createdAt: at,
      });
      // As the relay reads them: in id order, the tickets' events interleaved.
      const batch = [
        event(9_000_001, a.id, 'ticket.created'),
        event(9_000_002, b.id, 'ticket.created'),
        event(9_000_003, a.id, 'ticket.status_changed'),
        event(9_000_004, c.id, 'ticket.created'),
        event(9_000_005, b.id, 'ticket.updated'),
        event(9_000_006, a.id, 'ticket.updated'),
      ];
      const signals: Array<{ type: string; options: Record<string, unknown> }> = [];
      const temporal = {
        connection: { withDeadline: (_deadline: unknown, fn: () => Promise<unknown>) => fn() },
        workflow: {
          signalWithStart: async (type: string, options: Record<string, unknown>) => {
            signals.push({ type, options });
          },
        },
      };
      const ctx: RelayContext = {
        db,
        temporal: temporal as unknown as RelayContext['temporal'],
        ticketsTaskQueue: 'tickets',
        deadline: () => Date.now() + 5_000,
        ...relayIntegrations(
          db,
          batch.map((e) => e.organizationId),
          ['slack'],
        ),
      };
      const sends = await slackRelaySubscriber().plan(batch, ctx);
      assert.equal(sends.length, 1, 'one send for the installation, not one per ticket');
      assert.equal(sends[0]!.target, `slack-sync/${integrationId}`);
      assert.deepEqual(sends[0]!.ticketIds, [a.id, b.id, c.id], 'a failed signal holds back every ticket it carries');
      await sends[0]!.send();
      assert.equal(signals.length, 1);
      assert.equal(signals[0]!.type, 'slackSyncWorkflow');
      assert.equal(signals[0]!.options.workflowId, `slack-sync/${integrationId}`);
      assert.deepEqual(signals[0]!.options.signalArgs, [
        [
          { ticketId: a.id, eventIds: [9_000_001, 9_000_003, 9_000_006] },
          { ticketId: b.id, eventIds: [9_000_002, 9_000_005] },
          { ticketId: c.id, eventIds: [9_000_004] },
        ],
      ]);
    });

    it('syncs a ticket’s events through the installation’s one workflow, in the order they happened, starting no workflow for the ticket', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      let version = ticket.version;
      for (const status of ['pending', 'on_hold', 'open', 'solved']) {
        const changed = await agent.fetch('PATCH', `/api/tickets/${ticket.id}`, { version, status });
        assert.equal(changed.status, 200, JSON.stringify(changed.body));
        version = (changed.body as { version: number }).version;
      }
      const changes = () =>
        slack
          .thread(channels.support, parent.ts)
          .map((m) => /Status changed from \*(.+?)\* to \*(.+?)\*/.exec(m.text ?? ''))
          .filter((m) => m !== null)
          .map((m) => `${m[1]} → ${m[2]}`);
      await eventually(async () => assert.equal(changes().length, 4), { timeoutMs: 30_000 });
      assert.deepEqual(changes(), ['Open → Pending', 'Pending → On hold', 'On hold → Open', 'Open → Solved']);

      const { client } = await testTemporal();
      const sync = await client.workflow.getHandle(`slack-sync/${integrationId}`).describe();
      assert.equal(sync.type, 'slackSyncWorkflow');
      await assert.rejects(
        client.workflow.getHandle(`slack-ticket/${integrationId}/${ticket.id}`).describe(),
        WorkflowNotFoundError,
        'nobody did anything in Slack about this ticket: it has no workflow of its own',
      );
    });
  });

  describe('from Slack to the ticket', () => {
    it('turns a thread reply into an internal note by its author, and a prefixed one into a public reply', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const reply = await slack.postAsUser(slackIds.agent, channels.support, 'Looks like a driver issue', {
        threadTs: parent.ts,
      });
      assert.equal(reply.delivery?.status, 200);
      // Slack retries an event it thinks we missed: same event id, retry header.
      const retried = await slackRetries(reply.delivery!, 'http_timeout');
      assert.equal(retried.status, 200);
      await slack.postAsUser(slackIds.agent, channels.support, '!reply We are on it, Carol.', { threadTs: parent.ts });
      await slack.postAsUser(slackIds.guest, channels.support, 'I saw this too', { threadTs: parent.ts });
      const comments = await eventually(
        async () => {
          const rows = await db
            .select()
            .from(ticketComments)
            .where(eq(ticketComments.supportRequestId, ticket.id))
            .orderBy(ticketComments.createdAt);
          assert.equal(rows.length, 3);
          return rows;
        },
        { timeoutMs: 30_000 },
      );
      assert.deepEqual(
        comments.map((c) => [c.body, c.isPublic, c.source, c.authorUserId, c.authorDisplayName]),
        [
          ['Looks like a driver issue', false, 'slack', agent.userId, null],
          ['We are on it, Carol.', true, 'slack', agent.userId, null],
          ['I saw this too', false, 'slack', null, 'Gus Guest (Slack)'],
        ],
      );
      await new Promise((r) => setTimeout(r, 1500));
      const echoes = slack
        .thread(channels.support, parent.ts)
        .filter((m) => m.bot_id && /Looks like/.test(m.text ?? ''));
      assert.equal(echoes.length, 0, 'a comment made in Slack is not posted back into its thread');
    });

    it('takes a reply that arrives before the ticket’s message has recorded where it was posted', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const recorded = and(eq(slackPosts.ticketId, ticket.id), eq(slackPosts.kind, 'parent'));
      await eventually(async () => {
        const [row] = await db.select().from(slackPosts).where(recorded);
        assert.equal(row?.ts, parent.ts);
      });
      // The moment between Slack's answer to chat.postMessage and our write of its ts: the message is on Slack
      // (with its post key in metadata), the row has its key and no ts yet.
      await db.update(slackPosts).set({ ts: null }).where(recorded);
      try {
        const looked = slack.callsTo('conversations.replies').length;
        const outside = await slack.postAsUser(slackIds.agent, channels.support, 'a thread that is not a ticket’s');
        const unrelated = await slack.postAsUser(slackIds.agent, channels.support, 'not about any ticket', {
          threadTs: outside.ts,
        });
        assert.equal(unrelated.delivery?.status, 200);
        // Slack limits conversations.replies hard: a 429 is answered at once with an error, and Slack's retry of the
        // event finds the ticket.
        slack.failNext('conversations.replies', { error: 'ratelimited' });
        const limited = await slack.postAsUser(slackIds.agent, channels.support, 'Replied before it was recorded', {
          threadTs: parent.ts,
        });
        assert.equal(limited.delivery?.status, 500);
        assert.ok(limited.delivery!.elapsedMs < 2000, `answered in ${limited.delivery!.elapsedMs} ms`);
        const retried = await slackRetries(limited.delivery!, 'http_error');
        assert.equal(retried.status, 200);
        const [comment] = await eventually(
          async () => {
            const rows = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
            assert.equal(rows.length, 1);
            return rows;
          },
          { timeoutMs: 30_000 },
        );
        assert.deepEqual([comment!.body, comment!.isPublic], ['Replied before it was recorded', false]);
        assert.equal(
          slack.callsTo('conversations.replies').length - looked,
          3,
          'each reply in the channel looked up its thread’s first message, while a post there was unrecorded',
        );
      } finally {
        await db.update(slackPosts).set({ ts: parent.ts }).where(recorded);
      }
    });

    it('applies Assign to me and the status menu as the clicking agent, once however often clicked', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const clicks = await Promise.all([
        slack.blockAction({
          userId: slackIds.agent,
          channelId: channels.support,
          messageTs: parent.ts,
          actionId: 'sb_assign_me',
          teamId: team,
        }),
        slack.blockAction({
          userId: slackIds.agent,
          channelId: channels.support,
          messageTs: parent.ts,
          actionId: 'sb_assign_me',
          teamId: team,
        }),
      ]);
      for (const click of clicks) assert.equal(click.status, 200);
      await eventually(async () => assert.equal((await ticketRow(ticket.id)).assigneeId, agent.userId), {
        timeoutMs: 30_000,
      });
      const menu = await slack.blockAction({
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: parent.ts,
        actionId: 'sb_status',
        selectedOption: 'solved',
        teamId: team,
      });
      assert.equal(menu.status, 200);
      await eventually(async () => assert.equal((await ticketRow(ticket.id)).status, 'solved'), { timeoutMs: 30_000 });
      const row = await ticketRow(ticket.id);
      assert.equal(row.version, ticket.version + 2, 'two changes: the double click assigned once');
    });

    it('tells a viewer, only them, that their role cannot change tickets', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const click = await slack.blockAction({
        userId: slackIds.viewer,
        channelId: channels.support,
        messageTs: parent.ts,
        actionId: 'sb_assign_me',
        teamId: team,
      });
      assert.equal(click.status, 200);
      const answer = await eventually(
        async () => {
          const posts = slack.responses(click.responseUrl!);
          assert.equal(posts.length, 1);
          return posts[0]!.body;
        },
        { timeoutMs: 30_000 },
      );
      assert.equal(answer.response_type, 'ephemeral');
      assert.match(String(answer.text), /viewer/);
      assert.equal((await ticketRow(ticket.id)).assigneeId, null);
    });

    it('adds an internal note from the Add note modal', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const click = await slack.blockAction({
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: parent.ts,
        actionId: 'sb_add_note',
        teamId: team,
      });
      assert.equal(click.status, 200);
      const view = [...slack.views.values()].find((v) => v.userId === slackIds.agent && !v.closed);
      assert.ok(view, 'the modal was opened with the click’s trigger id');
      const empty = await slack.viewSubmission({
        userId: slackIds.agent,
        viewId: view.id,
        values: { note: { body: { type: 'plain_text_input', value: '  ' } } },
        teamId: team,
      });
      assert.equal(empty.viewOutcome, 'errors');
      const submitted = await slack.viewSubmission({
        userId: slackIds.agent,
        viewId: view.id,
        values: { note: { body: { type: 'plain_text_input', value: 'Customer is on the beta build' } } },
        teamId: team,
      });
      assert.equal(submitted.viewOutcome, 'closed');
      await eventually(
        async () => {
          const [note] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.equal(note?.body, 'Customer is on the beta build');
          assert.equal(note?.isPublic, false);
          assert.equal(note?.authorUserId, agent.userId);
        },
        { timeoutMs: 30_000 },
      );
    });
  });

  describe('/ticket', () => {
    const command = (text: string, userId = slackIds.agent) =>
      slack.slashCommand({ command: '/ticket', text, userId, channelId: channels.support, teamId: team });

    it('answers help and mistakes at once, only to the person, saying how to fix them', async () => {
      const help = await command('help');
      assert.equal(help.status, 200);
      assert.equal((help.json as { response_type: string }).response_type, 'ephemeral');
      assert.match((help.json as { text: string }).text, /\/ticket update 42 status=pending/);
      const wrong = await command('update 42 status=done');
      assert.match((wrong.json as { text: string }).text, /status "done" is not one of/);
      const missing = await command('999999');
      assert.match((missing.json as { text: string }).text, /There is no ticket #999999/);
    });

    it('shows a ticket to a member, and not to someone outside the organisation', async () => {
      const ticket = await newTicket();
      const shown = await command(String(ticket.number));
      assert.equal(shown.status, 200);
      assert.match(JSON.stringify(shown.json), new RegExp(`#${ticket.number}`));
      const outsider = await command(String(ticket.number), slackIds.guest);
      assert.match((outsider.json as { text: string }).text, /not a member/);
    });

    it('updates, assigns and comments, and answers through the response_url', async () => {
      const ticket = await newTicket();
      const update = await command(`update ${ticket.number} status=on_hold priority=high`);
      assert.equal(update.status, 200);
      await eventually(
        async () => {
          const row = await ticketRow(ticket.id);
          assert.deepEqual([row.status, row.priority], ['on_hold', 'high']);
        },
        { timeoutMs: 30_000 },
      );
      const answered = await eventually(async () => {
        const posts = slack.responses(update.responseUrl!);
        assert.equal(posts.length, 1);
        return posts[0]!.body;
      });
      assert.match(String(answered.text), /updated: status on_hold, priority high/);

      const assign = await command(`assign ${ticket.number} <@${slackIds.admin}|ada>`);
      assert.equal(assign.status, 200);
      await eventually(async () => assert.equal((await ticketRow(ticket.id)).assigneeId, admin.userId), {
        timeoutMs: 30_000,
      });
      const outsider = await command(`assign ${ticket.number} <@${slackIds.guest}|gus>`);
      const refused = await eventually(
        async () => {
          const posts = slack.responses(outsider.responseUrl!);
          assert.equal(posts.length, 1);
          return posts[0]!.body;
        },
        { timeoutMs: 30_000 },
      );
      assert.match(String(refused.text), /not a member/);

      await command(`comment ${ticket.number} !reply Fixed in 2.4`);
      await eventually(
        async () => {
          const [c] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.deepEqual([c?.body, c?.isPublic], ['Fixed in 2.4', true]);
        },
        { timeoutMs: 30_000 },
      );
    });

    it('creates a ticket from the create modal, once however often submitted', async () => {
      const opened = await command('create');
      assert.equal(opened.status, 200);
      const view = [...slack.views.values()].find(
        (v) =>
          v.userId === slackIds.agent &&
          !v.closed &&
          (v.view as { callback_id?: string }).callback_id === 'sb_create_ticket',
      );
      assert.ok(view);
      const subject = `VPN down ${randomUUID().slice(0, 6)}`;
      const values = {
        subject: { subject: { type: 'plain_text_input', value: subject } },
        description: { description: { type: 'plain_text_input', value: 'Since 9am' } },
        priority: {
          priority: {
            type: 'static_select',
            selected_option: { text: { type: 'plain_text', text: 'urgent' }, value: 'urgent' },
          },
        },
        requester: { requester: { type: 'plain_text_input', value: 'not-an-email' } },
      };
      const invalid = await slack.viewSubmission({ userId: slackIds.agent, viewId: view.id, values, teamId: team });
      assert.equal(invalid.viewOutcome, 'errors');
      assert.match(invalid.body, /email address/);
      const good = { ...values, requester: { requester: { type: 'plain_text_input', value: 'dan@customer.test' } } };
      const first = await slack.viewSubmission({ userId: slackIds.agent, viewId: view.id, values: good, teamId: team });
      assert.equal(first.viewOutcome, 'closed');
      await slack.viewSubmission({ userId: slackIds.agent, viewId: view.id, values: good, teamId: team });
      const created = await eventually(
        async () => {
          const rows = await db
            .select()
            .from(supportRequests)
            .where(and(eq(supportRequests.subject, subject), eq(supportRequests.organizationId, admin.organizationId)));
          assert.equal(rows.length, 1);
          return rows[0]!;
        },
        { timeoutMs: 30_000 },
      );
      assert.deepEqual([created.priority, created.channel], ['urgent', 'slack']);
      await parentIn(channels.urgent, created.number);
    });
  });

  describe('DMs', () => {
    const dmOf = (slackUserId: string) => slack.store.openDm(team, slackUserId).id;

    it('sends an agent their assignments and mentions by DM, when they asked for it', async () => {
      const prefs = await agent.fetch('PUT', '/api/slack/me', { dmAssignments: true, dmMentions: true });
      assert.equal(prefs.status, 200);
      assert.deepEqual((await agent.fetch('GET', '/api/slack/me')).body, { dmAssignments: true, dmMentions: true });
      assert.equal((await viewer.fetch('PUT', '/api/slack/me', { dmAssignments: true, dmMentions: true })).status, 403);
      const ticket = await newTicket();
      const assigned = await admin.fetch('PATCH', `/api/tickets/${ticket.id}`, {
        version: ticket.version,
        assigneeId: agent.userId,
      });
      assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
      await eventually(
        async () => {
          const dm = slack.messages(dmOf(slackIds.agent));
          assert.ok(
            dm.some(
              (m) => (m.text ?? '').includes(`You were assigned`) && (m.text ?? '').includes(`#${ticket.number}`),
            ),
          );
        },
        { timeoutMs: 30_000 },
      );
      await admin.fetch('POST', `/api/tickets/${ticket.id}/comments`, {
        body: '@grace could you call the customer?',
        isPublic: false,
      });
      await eventually(
        async () => {
          const dm = slack.messages(dmOf(slackIds.agent));
          assert.ok(dm.some((m) => /mentioned you/.test(m.text ?? '') && /call the customer/.test(m.text ?? '')));
        },
        { timeoutMs: 30_000 },
      );
      await agent.fetch('PUT', '/api/slack/me', { dmAssignments: false, dmMentions: false });
    });

    it('holds a private discussion in a DM with the bot, mirrored to the ticket as internal notes', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const click = await slack.blockAction({
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: parent.ts,
        actionId: 'sb_discuss_dm',
        teamId: team,
      });
      assert.equal(click.status, 200);
      const dm = dmOf(slackIds.agent);
      const dmParent = await eventually(
        async () => {
          const found = slack.history(dm).find((m) => m.text?.startsWith(`#${ticket.number} `));
          assert.ok(found, 'the ticket’s message in the DM');
          return found;
        },
        { timeoutMs: 30_000 },
      );
      await slack.postAsUser(slackIds.agent, dm, 'Between us: this customer is on legacy pricing', {
        threadTs: dmParent.ts,
        teamId: team,
      });
      await eventually(
        async () => {
          const [note] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.deepEqual(
            [note?.body, note?.isPublic, note?.authorUserId],
            ['Between us: this customer is on legacy pricing', false, agent.userId],
          );
        },
        { timeoutMs: 30_000 },
      );
    });
  });

  describe('replies, edits and the Reply to customer shortcut', () => {
    it('sends a thread reply to the customer from the shortcut, and ignores edits and deletions', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const reply = await slack.postAsUser(slackIds.agent, channels.support, 'The patch is live now', {
        threadTs: parent.ts,
      });
      const internal = await eventually(
        async () => {
          const [c] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.ok(c);
          return c;
        },
        { timeoutMs: 30_000 },
      );
      assert.equal(internal.isPublic, false);
      const edited = await slack.editAsUser(slackIds.agent, channels.support, reply.ts, 'The patch is live (edited)');
      assert.equal(edited.delivery?.status, 200);
      const deleted = await slack.deleteAsUser(slackIds.agent, channels.support, reply.ts);
      assert.equal(deleted.delivery?.status, 200);

      const again = await slack.postAsUser(slackIds.agent, channels.support, 'Please try again and tell us', {
        threadTs: parent.ts,
      });
      const shortcut = await slack.messageShortcut({
        callbackId: 'sb_reply_to_customer',
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: again.ts,
        teamId: team,
      });
      assert.equal(shortcut.status, 200);
      const comments = await eventually(
        async () => {
          const rows = await db
            .select()
            .from(ticketComments)
            .where(eq(ticketComments.supportRequestId, ticket.id))
            .orderBy(ticketComments.createdAt);
          assert.equal(rows.length, 3);
          return rows;
        },
        { timeoutMs: 30_000 },
      );
      assert.deepEqual(
        comments.map((c) => [c.body, c.isPublic]),
        [
          ['The patch is live now', false],
          ['Please try again and tell us', false],
          ['Please try again and tell us', true],
        ],
        'the edit and the deletion changed nothing; the shortcut sent the reply to the customer',
      );

      const outside = await slack.postAsUser(slackIds.agent, channels.support, 'not in a ticket thread');
      const refused = await slack.messageShortcut({
        callbackId: 'sb_reply_to_customer',
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: outside.ts,
        teamId: team,
      });
      const answer = await eventually(async () => {
        const posts = slack.responses(refused.responseUrl!);
        assert.equal(posts.length, 1);
        return posts[0]!.body;
      });
      assert.match(String(answer.text), /works on a person’s reply in a ticket’s thread/);
    });
  });

  describe('what Slack sends as people wrote it, and who may do what', () => {
    it('reads Slack’s escaped text back to what was written, and takes replies also sent to the channel', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      await slack.postAsUser(
        slackIds.agent,
        channels.support,
        `!reply Q&A: 2 < 3, see <https://x.test/faq|the FAQ>; <@${slackIds.admin}> agrees`,
        { threadTs: parent.ts, replyBroadcast: true },
      );
      await eventually(
        async () => {
          const [c] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.equal(c?.body, 'Q&A: 2 < 3, see the FAQ (https://x.test/faq); @Ada Lovelace agrees');
          assert.equal(c?.isPublic, true);
        },
        { timeoutMs: 30_000 },
      );
    });

    it('keeps a viewer’s thread reply as a note under their Slack name, never as theirs', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      await slack.postAsUser(slackIds.viewer, channels.support, 'viewers may not write', { threadTs: parent.ts });
      await eventually(
        async () => {
          const [c] = await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id));
          assert.deepEqual([c?.authorUserId, c?.authorDisplayName, c?.isPublic], [null, 'Linus T (Slack)', false]);
        },
        { timeoutMs: 30_000 },
      );
    });

    it('escapes a subject everywhere a message shows it, the fallback text included', async () => {
      const ticket = await newTicket({ subject: 'Hi <!channel> <https://evil.test|reset your password>' });
      const parent = await parentIn(channels.support, ticket.number);
      assert.ok(!parent.text?.includes('<!channel>'), parent.text);
      assert.ok(parent.text?.includes('&lt;!channel&gt;'), parent.text);
    });

    it('goes on with a ticket’s clicks when Slack will not say who someone is', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      // Someone not looked up before (looked-up people are cached).
      const hiddenUser = slack.store.addUser(team, {
        name: 'hidden',
        email: `hidden-${run.toLowerCase()}@acme.test`,
      }).id;
      slack.failNext('users.info', { error: 'user_not_visible' });
      const hidden = await slack.blockAction({
        userId: hiddenUser,
        channelId: channels.support,
        messageTs: parent.ts,
        actionId: 'sb_assign_me',
        teamId: team,
      });
      const refused = await eventually(
        async () => {
          const posts = slack.responses(hidden.responseUrl!);
          assert.equal(posts.length, 1);
          return posts[0]!.body;
        },
        { timeoutMs: 30_000 },
      );
      assert.match(String(refused.text), /did not let Switchboard look you up/);
      await slack.blockAction({
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: parent.ts,
        actionId: 'sb_status',
        selectedOption: 'pending',
        teamId: team,
      });
      await eventually(async () => assert.equal((await ticketRow(ticket.id)).status, 'pending'), { timeoutMs: 30_000 });
    });

    it('lets the next person make the ticket from a message someone else was refused, telling nobody the other’s outcome', async () => {
      const posted = await slack.postAsUser(
        slackIds.guest,
        channels.support,
        `Export broken ${randomUUID().slice(0, 4)}`,
      );
      const invoke = (userId: string) =>
        slack.messageShortcut({
          callbackId: 'sb_create_from_message',
          userId,
          channelId: channels.support,
          messageTs: posted.message.ts,
          teamId: team,
        });
      const guest = await invoke(slackIds.guest);
      await eventually(async () => assert.equal(slack.responses(guest.responseUrl!).length, 1), {
        timeoutMs: 30_000,
      });
      const adminTry = await invoke(slackIds.admin);
      await eventually(
        async () => {
          const posts = slack.responses(adminTry.responseUrl!);
          assert.equal(posts.length, 1);
          assert.match(String(posts[0]!.body.text), /Created ticket #\d+ from the message/);
          assert.ok(!String(posts[0]!.body.text).includes('elsewhere.test'));
        },
        { timeoutMs: 30_000 },
      );
    });

    it('lets an agent send a reply to the customer after someone else was refused, and never sends one twice', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const reply = await slack.postAsUser(slackIds.agent, channels.support, '!reply Fixed, please retry', {
        threadTs: parent.ts,
      });
      const other = await slack.postAsUser(slackIds.agent, channels.support, 'Try clearing the cache', {
        threadTs: parent.ts,
      });
      const shortcut = (userId: string, messageTs: string) =>
        slack.messageShortcut({
          callbackId: 'sb_reply_to_customer',
          userId,
          channelId: channels.support,
          messageTs,
          teamId: team,
        });
      const answered = async (d: { responseUrl?: string }) =>
        eventually(
          async () => {
            const posts = slack.responses(d.responseUrl!);
            assert.equal(posts.length, 1);
            return String(posts[0]!.body.text);
          },
          { timeoutMs: 30_000 },
        );
      assert.match(await answered(await shortcut(slackIds.viewer, other.ts)), /viewer/);
      assert.match(await answered(await shortcut(slackIds.agent, other.ts)), /Sent to the customer/);
      assert.match(await answered(await shortcut(slackIds.agent, reply.ts)), /already went to the customer/);
      const publicOnes = (
        await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id))
      ).filter((c) => c.isPublic);
      assert.deepEqual(publicOnes.map((c) => c.body).sort(), ['Fixed, please retry', 'Try clearing the cache']);
    });

    it('refuses Reply to customer on the ticket’s own message', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      const tried = await slack.messageShortcut({
        callbackId: 'sb_reply_to_customer',
        userId: slackIds.agent,
        channelId: channels.support,
        messageTs: parent.ts,
        teamId: team,
      });
      await eventually(async () =>
        assert.match(String(slack.responses(tried.responseUrl!)[0]?.body.text), /person’s reply/),
      );
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(
        (await db.select().from(ticketComments).where(eq(ticketComments.supportRequestId, ticket.id))).length,
        0,
      );
    });

    it('takes one channel’s refusal as that message’s, not as the workspace disconnected', async () => {
      slack.failNext('chat.postMessage', { error: 'no_permission' });
      await newTicket();
      await eventually(
        async () => {
          const [row] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, integrationId));
          assert.match(row?.lastError ?? '', /no_permission/);
        },
        { timeoutMs: 30_000 },
      );
      const list = await admin.fetch('GET', '/api/slack/installations');
      assert.equal(list.body.data[0].connected, true);
    });

    it('sets a ticket aside when Slack fails its message, says why on the integration, and posts it later; the next ticket is not held', async () => {
      slack.failNext('chat.postMessage', { error: 'restricted_action_read_only_channel' });
      const held = await newTicket();
      await eventually(
        async () => {
          const [row] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, integrationId));
          assert.match(row?.lastError ?? '', /restricted_action_read_only_channel.*retried later/);
        },
        { timeoutMs: 30_000 },
      );
      const next = await newTicket();
      await parentIn(channels.support, next.number);
      await parentIn(channels.support, held.number);
      const parents = slack.history(channels.support).filter((m) => m.text?.startsWith(`#${held.number} `));
      assert.equal(parents.length, 1, 'posted once, on its own retry');
    });

    it('refuses a bot token typed into the generic update, and refuses Slack’s changes while switched off', async () => {
      const typed = await admin.fetch('PATCH', `/api/integrations/${integrationId}`, {
        credentials: { botToken: 'xoxb-typed' },
      });
      assert.equal(typed.status, 422);
      assert.match(JSON.stringify(typed.body), /Add to Slack/);
      const ticket = await newTicket();
      assert.equal((await admin.fetch('PATCH', `/api/integrations/${integrationId}`, { isActive: false })).status, 200);
      try {
        const command = await slack.slashCommand({
          command: '/ticket',
          text: `update ${ticket.number} status=pending`,
          userId: slackIds.agent,
          channelId: channels.support,
          teamId: team,
        });
        assert.match((command.json as { text: string }).text, /switched off/);
        await new Promise((r) => setTimeout(r, 500));
        assert.equal((await ticketRow(ticket.id)).status, 'open');
      } finally {
        assert.equal(
          (await admin.fetch('PATCH', `/api/integrations/${integrationId}`, { isActive: true })).status,
          200,
        );
      }
    });
  });

  describe('shortcuts', () => {
    it('creates one ticket from a message, with its author as requester and a link back', async () => {
      const posted = await slack.postAsUser(
        slackIds.agent,
        channels.support,
        'Customer says exports time out\nsince Monday',
      );
      const invoke = () =>
        slack.messageShortcut({
          callbackId: 'sb_create_from_message',
          userId: slackIds.admin,
          channelId: channels.support,
          messageTs: posted.message.ts,
          teamId: team,
        });
      assert.equal((await invoke()).status, 200);
      const ticket = await eventually(
        async () => {
          const [row] = await db
            .select()
            .from(supportRequests)
            .where(
              and(
                eq(supportRequests.subject, 'Customer says exports time out'),
                eq(supportRequests.organizationId, admin.organizationId),
              ),
            );
          assert.ok(row);
          return row;
        },
        { timeoutMs: 30_000 },
      );
      assert.match(ticket.description, /since Monday/);
      assert.match(ticket.description, /From Slack: http/);
      const second = await invoke();
      assert.equal(second.status, 200);
      await new Promise((r) => setTimeout(r, 1000));
      const rows = await db.select().from(slackInbound).where(eq(slackInbound.kind, 'create_from_message'));
      assert.equal(rows.filter((r) => r.ticketId === ticket.id).length, 1);
    });
  });

  describe('Slack’s limits', () => {
    it('waits for Retry-After when Slack answers 429, then posts once', async () => {
      slack.failNext('chat.postMessage', { error: 'ratelimited', retryAfter: 2 });
      const ticket = await newTicket();
      await parentIn(channels.support, ticket.number).catch((error) => {
        console.log(
          slack
            .callsTo('chat.postMessage')
            .slice(-4)
            .map((c) => [c.status, c.error, c.args.channel, c.at]),
        );
        throw error;
      });
      const calls = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === channels.support);
      const limited = calls.findIndex((c) => c.status === 429);
      assert.ok(limited >= 0, 'Slack answered 429 once');
      const next = calls[limited + 1]!;
      assert.ok(next.at.getTime() - calls[limited]!.at.getTime() >= 1900, 'the retry waited for Retry-After');
    });
  });

  describe('uninstall', () => {
    it('pauses the work with the reason, keeps what happens meanwhile, and resumes when installed again', async () => {
      const ticket = await newTicket();
      const parent = await parentIn(channels.support, ticket.number);
      await slack.uninstall(team);
      await eventually(async () => {
        const list = await admin.fetch('GET', '/api/slack/installations');
        assert.equal(list.body.data[0].connected, false);
        assert.match(list.body.data[0].disconnectedReason, /tokens_revoked|app_uninstalled/);
      });
      await agent.fetch('POST', `/api/tickets/${ticket.id}/comments`, {
        body: 'Written while Slack was away',
        isPublic: false,
      });
      await eventually(
        async () => {
          const list = await admin.fetch('GET', '/api/slack/installations');
          assert.equal(list.body.data[0].paused.tickets, 1);
        },
        { timeoutMs: 30_000 },
      );

      await installSlack(api, admin, { teamId: team, slackUserId: slackIds.admin });
      await eventually(
        async () => {
          const note = slack
            .thread(channels.support, parent.ts)
            .find((m) => /Written while Slack was away/.test(m.text ?? ''));
          assert.ok(note, 'the comment made while disconnected reached the thread after the reinstall');
        },
        { timeoutMs: 30_000 },
      );
      const list = await admin.fetch('GET', '/api/slack/installations');
      assert.equal(list.body.data[0].connected, true);
      assert.equal(list.body.data[0].paused.tickets, 0);
    });

    it('gives the bot token back to Slack when an admin deletes the installation', async () => {
      const fresh = await freshWorkspace(api, slack, 'D', ['new_ticket']);
      const deleted = await fresh.admin.fetch('DELETE', `/api/integrations/${fresh.integrationId}`);
      assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
      assert.ok(slack.callsTo('auth.revoke').some((c) => c.teamId === fresh.team && c.ok));
      assert.throws(() => slack.botTokenFor(fresh.team));
      const list = await fresh.admin.fetch('GET', '/api/slack/installations');
      assert.deepEqual(list.body.data, []);
    });

    it('frees an uninstalled workspace for another organisation, switching the old installation off', async () => {
      const other = `T0O${run}`;
      slack.addTeam({
        id: other,
        name: `Other ${run}`,
        domain: `other-${run.toLowerCase()}`,
        users: [{ id: `U0O${run}`, name: 'ada', realName: 'Ada', email: admin.email, isAdmin: true }],
        channels: [{ id: `C0O${run}`, name: 'general' }],
      });
      const first = await installSlack(api, admin, { teamId: other, slackUserId: `U0O${run}` });
      const owner = await createTestOrganization({ role: 'admin' });
      const refused = await addToSlack(api, owner, { teamId: other, slackUserId: `U0O${run}` });
      assert.equal(refused.searchParams.get('reason'), 'workspace_taken');
      await slack.uninstall(other);
      await eventually(async () => {
        const list = await admin.fetch('GET', '/api/slack/installations');
        const row = list.body.data.find((w: { teamId: string }) => w.teamId === other);
        assert.equal(row?.disconnectedReason, 'app_uninstalled');
      });
      await installSlack(api, owner, { teamId: other, slackUserId: `U0O${run}` });
      const [old] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, first));
      assert.equal(old!.isActive, false);
      assert.match(old!.disabledReason ?? '', /another organisation/);
    });
  });
});
