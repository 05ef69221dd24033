// The routing statement on its own: each condition, each kind of recipient, the dedupe by key and idempotency,
// over synthetic events in one batch (one statement for all of them).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  customers,
  notificationPreferences,
  notificationRules,
  notifications,
  schema,
  supportRequests,
  ticketComments,
} from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { makeOrganization, type TestOrganization } from '../../domain/test-fixtures.ts';
import { testDatabase } from '../../test/support/database.ts';
import { ticketSnapshotFor } from '../../test/support/ticket-events.ts';
import type { RoutableEvent } from './render.ts';
import { routeEvents } from './route.ts';

describe('routeEvents: rules evaluated in SQL for a whole batch', () => {
  const { db } = testDatabase();
  let org: TestOrganization;
  let agent: string;
  let admin: string;
  let viewer: string;
  let ticketId: string;
  let nextEvent = 1_000_000_000 + Math.floor(Math.random() * 1_000_000);

  before(async () => {
    org = await makeOrganization();
    agent = org.scope.userId!;
    admin = await org.addMember('admin');
    viewer = await org.addMember('viewer');
    const [customer] = await db
      .insert(customers)
      .values({ organizationId: org.organizationId, email: `carol-${randomUUID()}@bigcorp.example` })
      .returning();
    const [ticket] = await db
      .insert(supportRequests)
      .values({
        organizationId: org.organizationId,
        number: 1,
        subject: 'Printer',
        requesterId: customer!.id,
        createdAt: new Date(Date.now() - 3 * 3600_000),
      })
      .returning();
    ticketId = ticket!.id;
  });

  function event(over: Partial<RoutableEvent> & { ticket?: Record<string, unknown> } = {}): RoutableEvent {
    const id = nextEvent++;
    const { ticket, ...rest } = over;
    return {
      eventId: id,
      organizationId: org.organizationId,
      ticketId,
      type: 'ticket.updated',
      payload: {
        ticket: { ...ticketSnapshotFor(ticketId), ...ticket },
        changes: {},
      },
      actorUserId: null,
      createdAt: new Date().toISOString(),
      dedupeKey: `event:${id}`,
      ...rest,
    };
  }

  async function withRule(rule: Partial<typeof notificationRules.$inferInsert>, events: RoutableEvent[]) {
    const [row] = await db
      .insert(notificationRules)
      .values({
        organizationId: org.organizationId,
        name: 'test',
        triggerEvents: ['ticket.updated'],
        channels: ['in_app'],
        recipients: [{ type: 'user', userId: agent }],
        ...rule,
      })
      .returning();
    try {
      await routeEvents(db, events, 'http://localhost');
      const rows = await db.select().from(notifications).where(eq(notifications.ruleId, row!.id));
      return rows;
    } finally {
      await db.update(notificationRules).set({ isActive: false }).where(eq(notificationRules.id, row!.id));
    }
  }

  const eventsOf = (rows: Array<typeof notifications.$inferSelect>) => rows.map((r) => r.eventId).sort();

  it('matches priority, status, tags, ticket channel and assignment, all at once in one batch', async () => {
    const urgent = event({ ticket: { priority: 'urgent', tags: ['vip', 'eu'], channel: 'email', assigneeId: agent } });
    const low = event({ ticket: { priority: 'low', tags: ['vip'], channel: 'email', assigneeId: agent } });
    const untagged = event({ ticket: { priority: 'urgent', channel: 'email', assigneeId: agent } });
    const unassigned = event({ ticket: { priority: 'urgent', tags: ['vip'], channel: 'email' } });
    const solved = event({ ticket: { priority: 'urgent', tags: ['vip'], channel: 'email', status: 'solved' } });
    const rows = await withRule(
      {
        conditions: {
          priorities: ['high', 'urgent'],
          statuses: ['open', 'pending'],
          tags: ['vip'],
          ticketChannels: ['email'],
          assignee: 'assigned',
        },
      },
      [urgent, low, untagged, unassigned, solved],
    );
    assert.deepEqual(eventsOf(rows), [urgent.eventId]);
  });

  it('matches the requester’s domain, the SLA state and the time since the last public reply', async () => {
    const [customer] = await db.select().from(customers).where(eq(customers.organizationId, org.organizationId));
    const breached = event({
      ticket: { requesterId: customer!.id, resolutionDueAt: new Date(Date.now() - 60_000).toISOString() },
    });
    const onTime = event({
      ticket: { requesterId: customer!.id, resolutionDueAt: new Date(Date.now() + 3600_000).toISOString() },
    });
    const otherDomain = event({ ticket: { resolutionDueAt: new Date(Date.now() - 60_000).toISOString() } });
    const rows = await withRule({ conditions: { requesterDomains: ['bigcorp.example'], slaStates: ['breached'] } }, [
      breached,
      onTime,
      otherDomain,
    ]);
    assert.deepEqual(eventsOf(rows), [breached.eventId]);

    // Created three hours ago, no reply (the requester's own comment is not one): two hours since; then an
    // agent's reply ten minutes ago.
    await db.insert(ticketComments).values({
      organizationId: org.organizationId,
      supportRequestId: ticketId,
      authorCustomerId: customer!.id,
      body: 'Any news?',
      isPublic: true,
      createdAt: new Date(Date.now() - 5 * 60_000),
    });
    const quiet = event();
    assert.equal((await withRule({ conditions: { minutesSinceLastReply: 120 } }, [quiet])).length, 1);
    await db.insert(ticketComments).values({
      organizationId: org.organizationId,
      supportRequestId: ticketId,
      authorUserId: agent,
      body: 'We are on it',
      isPublic: true,
      createdAt: new Date(Date.now() - 10 * 60_000),
    });
    assert.equal((await withRule({ conditions: { minutesSinceLastReply: 120 } }, [event()])).length, 0);
  });

  it('reaches the assignee, the team while unassigned, a role and named members of this organisation only', async () => {
    const outsider = (await makeOrganization()).scope.userId!;
    const assigned = event({ ticket: { assigneeId: agent } });
    const unassigned = event();
    const rows = await withRule(
      {
        recipients: [
          { type: 'assignee', whenUnassigned: 'team' },
          { type: 'role', role: 'viewer' },
          { type: 'user', userId: outsider },
        ],
      },
      [assigned, unassigned],
    );
    const who = (e: RoutableEvent) =>
      rows
        .filter((r) => r.eventId === e.eventId)
        .map((r) => r.userId)
        .sort();
    assert.deepEqual(who(assigned), [agent, viewer].sort());
    assert.deepEqual(who(unassigned), [agent, admin, viewer].sort());
  });

  it('makes one notification per event, person and channel, however many rules or runs', async () => {
    const e = event({ ticket: { assigneeId: agent } });
    const rows = await withRule({ recipients: [{ type: 'assignee' }, { type: 'team' }], channels: ['in_app'] }, [e]);
    assert.equal(rows.filter((r) => r.userId === agent).length, 1);
    const again = await routeEvents(db, [e], 'http://localhost');
    assert.equal(again.rowsInserted, 0);
  });

  it('decides at once the in-app notifications that need no waiting, and wakes only for the rest', async () => {
    const quietOne = await org.addMember('agent');
    const offOne = await org.addMember('agent');
    const digestOne = await org.addMember('agent');
    const now = new Date();
    const hhmm = (d: Date) => d.toISOString().slice(11, 16);
    await db.insert(notificationPreferences).values([
      {
        organizationId: org.organizationId,
        userId: quietOne,
        quietHours: {
          start: hhmm(new Date(now.getTime() - 3600_000)),
          end: hhmm(new Date(now.getTime() + 3600_000)),
          timeZone: 'UTC',
        },
      },
      { organizationId: org.organizationId, userId: offOne, channels: { ticket: ['email'] } },
      { organizationId: org.organizationId, userId: digestOne, digestFrequency: 'hourly' },
    ]);
    const e = event();
    const [row] = await db
      .insert(notificationRules)
      .values({
        organizationId: org.organizationId,
        name: 'fast',
        triggerEvents: ['ticket.updated'],
        channels: ['in_app'],
        recipients: [agent, quietOne, offOne, digestOne].map((userId) => ({ type: 'user', userId })),
      })
      .returning();
    try {
      const routed = await routeEvents(db, [e], 'http://localhost');
      const rows = await db.select().from(notifications).where(eq(notifications.ruleId, row!.id));
      const statusOf = (userId: string) => rows.find((r) => r.userId === userId)?.status;
      assert.equal(statusOf(agent), 'sent');
      assert.equal(statusOf(offOne), 'suppressed');
      assert.equal(statusOf(quietOne), 'pending');
      assert.equal(statusOf(digestOne), 'pending');
      assert.deepEqual(routed.recipients.map((r) => r.recipientKey).sort(), [quietOne, digestOne].sort());
    } finally {
      await db.update(notificationRules).set({ isActive: false }).where(eq(notificationRules.id, row!.id));
    }
  });

  it('records the actor’s own change as suppressed, and ignores ticket conditions for events without a ticket', async () => {
    const own = event({ actorUserId: agent });
    const [row] = await withRule({}, [own]);
    assert.deepEqual([row?.status, row?.reason], ['suppressed', 'your own change']);
    const failure = event({ type: 'integration.failed', ticketId: null, payload: { integrationId: 'x', label: 'X' } });
    const none = await withRule({ triggerEvents: ['integration.failed'], conditions: { priorities: ['low'] } }, [
      failure,
    ]);
    assert.equal(none.length, 0);
  });

  /** The database, counting the statements it is given, and failing every one after the first `failAfter`. */
  function counting(failAfter = Number.POSITIVE_INFINITY) {
    let count = 0;
    const exec = new Proxy(db, {
      get(target, property, receiver) {
        if (property !== 'execute') return Reflect.get(target, property, receiver);
        return (query: Parameters<typeof db.execute>[0]) => {
          count++;
          return count > failAfter ? Promise.reject(new Error('the relay was killed here')) : target.execute(query);
        };
      },
    });
    return { exec, statements: () => count };
  }

  it('costs a batch no rule wants one statement, and one that wants no critical rule no alert statements', async () => {
    const nobody = counting();
    await routeEvents(nobody.exec, [event({ type: 'ticket.nobody-listens' })], 'http://localhost');
    assert.equal(nobody.statements(), 1);
    const quiet = counting();
    const [row] = await db
      .insert(notificationRules)
      .values({
        organizationId: org.organizationId,
        name: 'normal, into a digest',
        triggerEvents: ['ticket.updated'],
        channels: ['in_app'],
        recipients: [{ type: 'user', userId: viewer }],
        delivery: { mode: 'digest', windowMinutes: 60 },
      })
      .returning();
    try {
      const routed = await routeEvents(quiet.exec, [event()], 'http://localhost');
      assert.deepEqual(
        routed.recipients.map((r) => r.recipientKey),
        [viewer],
      );
      // The routing statement, then the in-app decision (which leaves a digest's row to the workflow).
      assert.equal(quiet.statements(), 2);
    } finally {
      await db.update(notificationRules).set({ isActive: false }).where(eq(notificationRules.id, row!.id));
    }
  });

  async function criticalRule() {
    const [row] = await db
      .insert(notificationRules)
      .values({
        organizationId: org.organizationId,
        name: 'critical, escalating',
        triggerEvents: ['ticket.updated'],
        channels: ['in_app'],
        recipients: [{ type: 'user', userId: agent }],
        severity: 'critical',
        escalation: { afterMinutes: 15, recipients: [{ type: 'role', role: 'admin' }] },
      })
      .returning();
    return row!;
  }

  for (const { killedAfter, left, woken } of [
    { killedAfter: 1, left: 'pending', woken: [() => agent] },
    { killedAfter: 2, left: 'sent', woken: [] },
  ])
    it(`raises a critical rule’s alert when the batch is routed again after a run killed after ${killedAfter} statement(s), and wakes whoever still waits`, async () => {
      const rule = await criticalRule();
      try {
        const e = event();
        // The first run writes the rows (and perhaps decides them) and dies before raising the alert.
        const killed = counting(killedAfter);
        await assert.rejects(routeEvents(killed.exec, [e], 'http://localhost'), /killed/);
        const [written] = await db.select().from(notifications).where(eq(notifications.ruleId, rule.id));
        assert.deepEqual([written?.status, written?.alertId], [left, null]);

        const again = await routeEvents(db, [e], 'http://localhost');
        assert.equal(again.rowsInserted, 0);
        assert.equal(again.alerts.length, 1);
        assert.deepEqual(
          again.recipients.map((r) => r.recipientKey),
          woken.map((who) => who()),
        );
        const [linked] = await db.select().from(notifications).where(eq(notifications.ruleId, rule.id));
        assert.equal(linked?.alertId, again.alerts[0]!.alertId);
      } finally {
        await db.update(notificationRules).set({ isActive: false }).where(eq(notificationRules.id, rule.id));
      }
    });

  it('reads again the rows a run of the same events wrote while this one waited on them', async () => {
    const rule = await criticalRule();
    try {
      const e = event();
      // Another run holds the rows uncommitted: this one's insert waits for it, and its snapshot is older.
      const other = await testDatabase().pool.connect();
      let committed = false;
      let late: ReturnType<typeof routeEvents> | undefined;
      try {
        const otherPid = (await other.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
        await other.query('begin');
        await routeEvents(drizzle(other, { schema }) as unknown as typeof db, [e], 'http://localhost');
        late = routeEvents(db, [e], 'http://localhost');
        late.catch(() => {});
        // Until the late run's insert waits on the other run's transaction.
        for (let waited = 0; ; waited += 20) {
          const { rows } = await testDatabase().pool.query(
            'select count(*)::int as n from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
            [otherPid],
          );
          if (rows[0].n > 0) break;
          if (waited > 10_000) throw new Error('the late run never waited on the other run');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        await other.query('commit');
        committed = true;
        const routed = await late;
        assert.equal(routed.rowsInserted, 0);
        assert.equal(routed.alerts.length, 1, 'the other run’s critical row is seen, and its alert raised');
      } finally {
        // A failure before the commit must not leave the transaction open for the tests after this one.
        if (!committed) await other.query('rollback').catch(() => {});
        other.release();
        await late?.catch(() => {});
      }
    } finally {
      await db.update(notificationRules).set({ isActive: false }).where(eq(notificationRules.id, rule.id));
    }
  });
});
