// Smart notifications end to end: ticket events through the real relay, routed by rules in SQL, decided by each
// recipient's Temporal workflow (digests, throttles, quiet hours, preferences, critical alerts and their
// escalation), and seen through the API as the in-app centre and the fatigue view.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { notificationAlerts, notificationRules, notifications } from '@switchboard/database';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { wakeRecipient } from '../activities/notifications/wake.ts';
import { notifyIntegrationFailure } from '../domain/notifications/integration-failure.ts';
import { notifyAlertWorkflowId, notifyRecipientWorkflowId, notifyTaskQueueFor } from '../workflows/notify-contract.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { recordHistory, replayHistories } from './support/histories.ts';
import { eventually, startPipeline, type TestPipeline, testTemporal, uniqueTaskQueue } from './support/temporal.ts';

describe('Notifications end to end', function () {
  this.timeout(180_000);
  const { db } = testDatabase();
  let api: TestApi;
  let pipeline: TestPipeline;
  let queue: string;
  let admin: TestUser;
  let agent: TestUser;
  let other: TestUser;

  before(async () => {
    queue = uniqueTaskQueue('notify');
    const temporal = await testTemporal();
    api = await startTestApi({
      temporal: temporal.client,
      config: (config) => ({ ...config, temporal: { ...config.temporal, ticketsTaskQueue: queue } }),
    });
    pipeline = await startPipeline(queue);
    admin = await createTestOrganization({ role: 'admin' });
    agent = await addTestMember(admin.organizationId, { role: 'agent' });
    other = await createTestOrganization({ role: 'admin' });
  });
  // Each test's own rules stop when it ends: two rules routing one event to one person make one notification, so
  // a rule left on would take the next test's events.
  afterEach(async () => {
    await db
      .update(notificationRules)
      .set({ isActive: false })
      .where(and(eq(notificationRules.organizationId, admin.organizationId), isNull(notificationRules.defaultKey)));
  });
  after(async () => {
    await pipeline?.stop();
    await api?.close();
  });

  async function newTicket(by: TestUser, input: Record<string, unknown> = {}) {
    const created = await by.fetch('POST', '/api/tickets', {
      subject: `Printer ${randomUUID().slice(0, 4)}`,
      ...input,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body as { id: string; number: number; version: number };
  }

  async function comment(by: TestUser, ticketId: string, body: string) {
    const res = await by.fetch('POST', `/api/tickets/${ticketId}/comments`, { body, isPublic: false });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }

  async function rule(input: Record<string, unknown>) {
    const res = await admin.fetch('POST', '/api/notifications/rules', {
      name: `rule ${randomUUID().slice(0, 4)}`,
      channels: ['in_app'],
      ...input,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string };
  }

  const rowsOf = (ruleId: string, userId: string) =>
    db
      .select()
      .from(notifications)
      .where(and(eq(notifications.ruleId, ruleId), eq(notifications.userId, userId)))
      .orderBy(notifications.id);

  async function setPreferences(user: TestUser, prefs: Record<string, unknown>) {
    const res = await user.fetch('PUT', '/api/notifications/preferences', prefs);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }

  describe('rules', () => {
    it('starts every organisation with the defaults an admin can keep or edit', async () => {
      const res = await admin.fetch('GET', '/api/notifications/rules');
      const data = (res.body as { data: Array<{ defaultKey: string | null; severity: string; escalation: unknown }> })
        .data;
      const defaults = Object.fromEntries(data.filter((r) => r.defaultKey).map((r) => [r.defaultKey, r]));
      assert.deepEqual(Object.keys(defaults).sort(), [
        'integration_failed',
        'sla_breach',
        'sla_warning',
        'urgent_ticket',
      ]);
      assert.equal(defaults.sla_breach!.severity, 'critical');
      assert.deepEqual(defaults.sla_breach!.escalation, {
        afterMinutes: 15,
        recipients: [{ type: 'role', role: 'admin' }],
      });
      const id = (data.find((r) => r.defaultKey === 'sla_warning') as unknown as { id: string }).id;
      assert.equal((await admin.fetch('DELETE', `/api/notifications/rules/${id}`)).status, 409);
      const off = await admin.fetch('PATCH', `/api/notifications/rules/${id}`, { isActive: false });
      assert.equal((off.body as { isActive: boolean }).isActive, false);
      await admin.fetch('PATCH', `/api/notifications/rules/${id}`, { isActive: true });
    });

    it('refuses a bad rule with a 422 naming the field, and stores nothing', async () => {
      const before = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(notificationRules)
        .where(eq(notificationRules.organizationId, admin.organizationId));
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ triggerEvents: ['ticket.exploded'], recipients: [{ type: 'team' }] }, 'body.triggerEvents.0'],
        [{ triggerEvents: ['ticket.created'], recipients: [{ type: 'team' }], channels: ['slack'] }, 'body.channels.0'],
        [
          { triggerEvents: ['ticket.created'], recipients: [{ type: 'user', userId: other.userId }] },
          'body.recipients.0.userId',
        ],
        [
          { triggerEvents: ['comment.created'], recipients: [{ type: 'requester' }], channels: ['in_app'] },
          'body.recipients.0',
        ],
        [
          {
            triggerEvents: ['ticket.created'],
            recipients: [{ type: 'team' }],
            escalation: { afterMinutes: 5, recipients: [{ type: 'role', role: 'admin' }] },
          },
          'body.escalation',
        ],
      ];
      for (const [input, path] of cases) {
        const res = await admin.fetch('POST', '/api/notifications/rules', {
          name: 'bad',
          channels: ['in_app'],
          ...input,
        });
        assert.equal(res.status, 422, JSON.stringify(res.body));
        const details = (res.body as { error: { details: Array<{ path: string }> } }).error.details;
        assert.ok(
          details.some((d) => d.path === path),
          `${path} not named in ${JSON.stringify(details)}`,
        );
      }
      const after = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(notificationRules)
        .where(eq(notificationRules.organizationId, admin.organizationId));
      assert.deepEqual(after, before);
      assert.equal((await agent.fetch('POST', '/api/notifications/rules', {})).status, 403);
    });

    it('shows another organisation’s rule as not found', async () => {
      const mine = await rule({ triggerEvents: ['ticket.created'], recipients: [{ type: 'team' }], isActive: false });
      assert.equal((await other.fetch('GET', `/api/notifications/rules/${mine.id}`)).status, 404);
      assert.equal((await other.fetch('PATCH', `/api/notifications/rules/${mine.id}`, { name: 'x' })).status, 404);
      assert.equal((await other.fetch('DELETE', `/api/notifications/rules/${mine.id}`)).status, 404);
    });

    it('previews who would be notified of a sample event, on which channel, and when', async () => {
      await setPreferences(agent, { channels: { ticket: [] }, quietHours: null, digestFrequency: 'off' });
      const res = await admin.fetch('POST', '/api/notifications/preview', {
        eventType: 'ticket.created',
        ticket: { priority: 'urgent', assigneeId: agent.userId },
        rule: {
          name: 'draft',
          triggerEvents: ['ticket.created'],
          conditions: { priorities: ['urgent'] },
          recipients: [{ type: 'assignee' }, { type: 'user', userId: admin.userId }],
          channels: ['in_app'],
        },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const data = (res.body as { data: Array<{ recipient: { userId: string }; decision: string; reason: string }> })
        .data;
      const byUser = Object.fromEntries(data.map((d) => [d.recipient.userId, d]));
      assert.equal(byUser[admin.userId]!.decision, 'send_now');
      assert.equal(byUser[agent.userId]!.decision, 'suppressed');
      assert.match(byUser[agent.userId]!.reason, /preferences turn off in_app for ticket/);
      const none = await admin.fetch('POST', '/api/notifications/preview', {
        eventType: 'ticket.created',
        ticket: { priority: 'low' },
        rule: {
          name: 'draft',
          triggerEvents: ['ticket.created'],
          conditions: { priorities: ['urgent'] },
          recipients: [{ type: 'team' }],
          channels: ['in_app'],
        },
      });
      assert.deepEqual((none.body as { data: unknown[] }).data, []);
      await setPreferences(agent, { channels: {} });
    });
  });

  describe('delivery', () => {
    it('puts an urgent ticket in the assignee’s centre at once, live, and not the actor’s own change', async () => {
      const stream = await fetch(`${api.baseUrl}/api/notifications/stream`, {
        headers: { cookie: agent.cookie, origin: api.baseUrl },
      });
      assert.equal(stream.status, 200);
      const reader = stream.body!.getReader();
      const firstChunk = new TextDecoder().decode((await reader.read()).value);
      assert.match(firstChunk, /event: unread/);

      const ticket = await newTicket(admin, { priority: 'urgent', assigneeId: agent.userId });
      const inbox = await eventually(async () => {
        const res = await agent.fetch('GET', '/api/notifications');
        const body = res.body as { data: Array<{ title: string; ticketId: string; id: number }>; unread: number };
        assert.ok(body.data.some((n) => n.ticketId === ticket.id));
        return body;
      });
      const mine = inbox.data.find((n) => n.ticketId === ticket.id)!;
      assert.match(mine.title, new RegExp(`New ticket #${ticket.number}`));
      // The open stream heard of it.
      let text = '';
      while (!text.includes(`"unread":${inbox.unread}`)) text += new TextDecoder().decode((await reader.read()).value);
      await reader.cancel();

      const read = await agent.fetch('POST', '/api/notifications/read', { ids: [mine.id] });
      assert.equal((read.body as { unread: number }).unread, inbox.unread - 1);
      // Another member's notification is not theirs to mark.
      await admin.fetch('POST', '/api/notifications/read', { ids: [mine.id] });

      // The admin assigns a ticket to themselves: their own change is recorded as suppressed, not sent.
      const own = await newTicket(admin, { priority: 'urgent', assigneeId: admin.userId });
      const held = await eventually(async () => {
        const res = await admin.fetch('GET', '/api/notifications/held-back');
        const found = (res.body as { data: Array<{ ticketId: string; status: string; reason: string }> }).data.find(
          (n) => n.ticketId === own.id,
        );
        assert.ok(found);
        return found;
      });
      assert.deepEqual([held.status, held.reason], ['suppressed', 'your own change']);
    });

    it('gathers a digest window’s events into one summary', async () => {
      const r = await rule({
        triggerEvents: ['comment.created'],
        recipients: [{ type: 'user', userId: agent.userId }],
        delivery: { mode: 'digest', windowMinutes: 30, groupBy: 'rule' },
      });
      const ticket = await newTicket(admin);
      for (let i = 0; i < 5; i++) await comment(admin, ticket.id, `note ${i}`);
      await eventually(async () => assert.equal((await rowsOf(r.id, agent.userId)).length, 5));
      // Still gathering; then the window is over (moved back in time rather than waited for).
      assert.deepEqual(
        (await rowsOf(r.id, agent.userId)).map((n) => n.status),
        ['pending', 'pending', 'pending', 'pending', 'pending'],
      );
      await db
        .update(notifications)
        .set({ createdAt: sql`created_at - interval '31 minutes'` })
        .where(eq(notifications.ruleId, r.id));
      await wakeRecipient(api.deps.temporal!, notifyTaskQueueFor(queue), admin.organizationId, agent.userId);
      const rows = await eventually(async () => {
        const rows = await rowsOf(r.id, agent.userId);
        assert.ok(rows.every((n) => n.status === 'digested'));
        return rows;
      });
      const digestIds = new Set(rows.map((n) => n.digestId));
      assert.equal(digestIds.size, 1);
      const [summary] = await db
        .select()
        .from(notifications)
        .where(eq(notifications.id, [...digestIds][0]!));
      assert.equal(summary!.title, '5 notifications');
      assert.equal(summary!.status, 'sent');
      assert.equal(summary!.body.split('\n').length, 5);
    });

    it('throttles to N per window and key, and drops an event routed twice', async () => {
      const r = await rule({
        triggerEvents: ['comment.created'],
        recipients: [{ type: 'user', userId: agent.userId }, { type: 'team' }],
        delivery: { mode: 'throttle', limit: 2, windowMinutes: 60, key: 'ticket' },
      });
      const ticket = await newTicket(admin);
      for (let i = 0; i < 5; i++) await comment(admin, ticket.id, `again ${i}`);
      const rows = await eventually(async () => {
        const rows = await rowsOf(r.id, agent.userId);
        assert.equal(rows.length, 5);
        assert.ok(rows.every((n) => n.status !== 'pending'));
        return rows;
      });
      // The agent is named and is in the team: one notification per event, not two.
      assert.deepEqual(
        rows.map((n) => n.status),
        ['sent', 'sent', 'throttled', 'throttled', 'throttled'],
      );
      assert.match(rows[2]!.reason!, /at most 2 per 1 h for the same ticket/);
      const held = await agent.fetch('GET', '/api/notifications/held-back');
      const throttled = (held.body as { data: Array<{ status: string; ruleId: string }> }).data.filter(
        (n) => n.ruleId === r.id,
      );
      assert.equal(throttled.length, 3);
    });

    it('respects a member’s “off”, except for a critical rule', async () => {
      const normal = await rule({
        triggerEvents: ['comment.created'],
        recipients: [{ type: 'user', userId: agent.userId }],
      });
      const critical = await rule({
        triggerEvents: ['comment.created'],
        recipients: [{ type: 'user', userId: agent.userId }],
        severity: 'critical',
        conditions: { tags: ['vip'] },
      });
      await setPreferences(agent, { channels: { comment: [] } });
      try {
        const ticket = await newTicket(admin, { tags: ['vip'] });
        await comment(admin, ticket.id, 'ping');
        await eventually(async () => {
          const [n] = await rowsOf(normal.id, agent.userId);
          const [c] = await rowsOf(critical.id, agent.userId);
          // The critical rule won the one notification for this event; a plain ticket shows the "off" at work.
          assert.equal(n, undefined);
          assert.equal(c?.status, 'sent');
        });
        const plain = await newTicket(admin);
        await comment(admin, plain.id, 'pong');
        const [n] = await eventually(async () => {
          const rows = (await rowsOf(normal.id, agent.userId)).filter((x) => x.ticketId === plain.id);
          assert.equal(rows[0]?.status, 'suppressed');
          return rows;
        });
        assert.match(n!.reason!, /preferences turn off in_app for comment/);
      } finally {
        await setPreferences(agent, { channels: {} });
      }
    });

    it('defers to the end of quiet hours on a durable timer that survives a worker restart; critical goes through', async () => {
      const normal = await rule({
        triggerEvents: ['comment.created'],
        recipients: [{ type: 'user', userId: agent.userId }],
      });
      const critical = await rule({
        triggerEvents: ['comment.created'],
        recipients: [{ type: 'user', userId: agent.userId }],
        severity: 'critical',
        conditions: { tags: ['outage'] },
      });
      // Quiet from a minute ago until the next whole minute at least 20 s away (UTC).
      const now = new Date();
      const end = new Date(now);
      end.setUTCSeconds(0, 0);
      end.setUTCMinutes(end.getUTCMinutes() + (60 - now.getUTCSeconds() < 20 ? 2 : 1));
      const hhmm = (d: Date) => d.toISOString().slice(11, 16);
      await setPreferences(agent, {
        quietHours: { start: hhmm(new Date(now.getTime() - 60_000)), end: hhmm(end), timeZone: 'UTC' },
      });
      try {
        const ticket = await newTicket(admin);
        await comment(admin, ticket.id, 'while you sleep');
        const outage = await newTicket(admin, { tags: ['outage'] });
        await comment(admin, outage.id, 'wake up');
        const deferred = await eventually(async () => {
          const [row] = await rowsOf(normal.id, agent.userId);
          assert.equal(row?.status, 'deferred');
          return row!;
        });
        assert.equal(deferred.deliverAfter?.toISOString(), end.toISOString());
        await eventually(async () => {
          const rows = await rowsOf(critical.id, agent.userId);
          assert.equal(rows[0]?.status, 'sent');
        });
        // The worker goes away during the wait and a new one takes over: the timer is Temporal's, not the process's.
        await pipeline.stop();
        pipeline = await startPipeline(queue);
        const sent = await eventually(
          async () => {
            const [row] = await rowsOf(normal.id, agent.userId);
            assert.equal(row?.status, 'sent');
            return row!;
          },
          { timeoutMs: 150_000 },
        );
        assert.ok(sent.sentAt! >= end, `sent at ${sent.sentAt?.toISOString()}, quiet until ${end.toISOString()}`);
        assert.ok(sent.sentAt!.getTime() - end.getTime() < 15_000, 'sent on time after quiet hours');
      } finally {
        await setPreferences(agent, { quietHours: null });
      }
    });

    it('escalates a critical alert nobody acknowledged, and not one somebody did', async () => {
      const r = await rule({
        triggerEvents: ['ticket.created'],
        conditions: { tags: ['sev1'] },
        recipients: [{ type: 'user', userId: agent.userId }],
        severity: 'critical',
        escalation: { afterMinutes: 1, recipients: [{ type: 'role', role: 'admin' }] },
      });
      const acked = await newTicket(agent, { tags: ['sev1'] });
      const ignored = await newTicket(agent, { tags: ['sev1'] });
      const alertOf = (ticketId: string) =>
        eventually(async () => {
          const [a] = await db
            .select()
            .from(notificationAlerts)
            .where(and(eq(notificationAlerts.ruleId, r.id), eq(notificationAlerts.ticketId, ticketId)));
          assert.ok(a);
          return a;
        });
      const ackAlert = await alertOf(acked.id);
      const ignoredAlert = await alertOf(ignored.id);
      // The acting agent is the recipient, but a critical alert still reaches them, with its alert to acknowledge.
      await eventually(async () => {
        const rows = await rowsOf(r.id, agent.userId);
        assert.equal(rows.filter((n) => n.status === 'sent' && n.alertId).length, 2);
      });
      assert.equal((await other.fetch('POST', `/api/notifications/alerts/${ackAlert.id}/acknowledge`)).status, 404);
      const ack = await agent.fetch('POST', `/api/notifications/alerts/${ackAlert.id}/acknowledge`);
      assert.equal(ack.status, 200);
      assert.equal((ack.body as { acknowledgedNow: boolean }).acknowledgedNow, true);
      const temporal = await testTemporal();
      assert.equal(
        await temporal.client.workflow.getHandle(notifyAlertWorkflowId(ackAlert.id)).result(),
        'acknowledged',
      );
      assert.equal(
        await temporal.client.workflow.getHandle(notifyAlertWorkflowId(ignoredAlert.id)).result(),
        'escalated',
      );
      const escalated = await eventually(async () => {
        const rows = (await rowsOf(r.id, admin.userId)).filter((n) => n.dedupeKey.startsWith('escalation:'));
        assert.equal(rows.length, 1);
        assert.equal(rows[0]!.status, 'sent');
        return rows[0]!;
      });
      assert.equal(escalated.ticketId, ignored.id);
      assert.match(escalated.title, /^Escalated: New ticket/);
      assert.equal(escalated.alertId, ignoredAlert.id);
    });

    it('tells the admins of a failing integration, at most once an hour per integration', async () => {
      const integrationId = randomUUID();
      const fail = (minutesAgo: number, itemKey: string = integrationId) =>
        notifyIntegrationFailure(
          { db, temporal: api.deps.temporal, ticketsTaskQueue: queue, publicUrl: api.baseUrl },
          {
            organizationId: admin.organizationId,
            integrationId: null,
            itemKey,
            integrationType: 'webhook',
            label: 'Orders endpoint',
            reason: 'HTTP 500 from the endpoint',
            at: new Date(Date.now() - minutesAgo * 60_000),
          },
        );
      await fail(2);
      await fail(1);
      await fail(0, 'scanner');
      const rows = await eventually(async () => {
        const rows = await db
          .select()
          .from(notifications)
          .where(and(eq(notifications.userId, admin.userId), eq(notifications.eventType, 'integration.failed')))
          .orderBy(notifications.id);
        assert.equal(rows.length, 3);
        assert.ok(rows.every((n) => n.status !== 'pending'));
        return rows;
      });
      assert.deepEqual(
        rows.map((n) => [n.groupKey, n.status]),
        [
          [integrationId, 'sent'],
          [integrationId, 'throttled'],
          ['scanner', 'sent'],
        ],
      );
      assert.equal(rows[0]!.title, 'Orders endpoint is failing');
      // The agent is not an admin: the default rule does not tell them.
      const agentRows = await db
        .select()
        .from(notifications)
        .where(and(eq(notifications.userId, agent.userId), eq(notifications.eventType, 'integration.failed')));
      assert.equal(agentRows.length, 0);
    });

    it('replays the recipient and alert workflows recorded from these runs', async () => {
      const temporal = await testTemporal();
      const [alert] = await db
        .select()
        .from(notificationAlerts)
        .where(eq(notificationAlerts.organizationId, admin.organizationId))
        .orderBy(notificationAlerts.createdAt);
      const recorded = [
        await recordHistory(
          temporal.client.workflow.getHandle(notifyRecipientWorkflowId(admin.organizationId, agent.userId)),
          'notify-recipient',
        ),
        await recordHistory(temporal.client.workflow.getHandle(notifyAlertWorkflowId(alert!.id)), 'notify-alert'),
      ];
      assert.deepEqual(
        await replayHistories(await temporal.workflowBundle(), recorded),
        recorded.map((r) => [r.workflowId, undefined]),
      );
    });
  });
});
