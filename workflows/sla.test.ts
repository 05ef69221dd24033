import assert from 'node:assert/strict';
import { supportRequests, ticketEvents } from '@switchboard/database';
import { and, asc, eq, like } from 'drizzle-orm';
import type { SlaTicketFacts } from '../activities/db/index.ts';
import { makeOrganization, type TestOrganization } from '../domain/test-fixtures.ts';
import { addComment } from '../domain/tickets/comments.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { updateTicket } from '../domain/tickets/update-ticket.ts';
import { searchAttributes, workflowIds } from '../temporal-config/index.ts';
import { testDatabase, truncateAll } from '../test/support/database.ts';
import {
  eventually,
  startPipeline,
  type TestPipeline,
  testTemporal,
  uniqueTaskQueue,
} from '../test/support/temporal.ts';
import { planMilestones } from './sla.ts';

describe('SLA watch', function () {
  this.timeout(60_000);

  describe('planning', () => {
    const created = Date.parse('2026-01-01T10:00:00.000Z');
    const facts = (over: Partial<SlaTicketFacts> = {}): SlaTicketFacts => ({
      status: 'open',
      createdAt: new Date(created).toISOString(),
      firstResponseDueAt: '2026-01-01T11:00:00.000Z',
      resolutionDueAt: '2026-01-01T14:00:00.000Z',
      firstRespondedAt: null,
      emitted: [],
      ...over,
    });
    const at = (iso: string) => Date.parse(iso);

    it('warns at the configured share of each window and breaches at the due time, soonest first', () => {
      assert.deepEqual(
        planMilestones(facts(), 0.75, created).map((m) => [m.type, m.kind, new Date(m.at).toISOString()]),
        [
          ['sla.warning', 'first_response', '2026-01-01T10:45:00.000Z'],
          ['sla.breached', 'first_response', '2026-01-01T11:00:00.000Z'],
          ['sla.warning', 'resolution', '2026-01-01T13:00:00.000Z'],
          ['sla.breached', 'resolution', '2026-01-01T14:00:00.000Z'],
        ],
      );
    });

    it('drops the first-response deadline once answered, and everything once solved or closed', () => {
      assert.deepEqual(
        planMilestones(facts({ firstRespondedAt: '2026-01-01T10:05:00.000Z' }), 0.75, created).map((m) => m.kind),
        ['resolution', 'resolution'],
      );
      assert.deepEqual(planMilestones(facts({ status: 'solved' }), 0.75, created), []);
      assert.deepEqual(planMilestones(facts({ status: 'closed' }), 0.75, created), []);
    });

    it('skips the warning of a deadline already past when planned, and of one already breached', () => {
      const late = planMilestones(facts({ resolutionDueAt: null }), 0.75, at('2026-01-01T11:30:00.000Z'));
      assert.deepEqual(
        late.map((m) => m.type),
        ['sla.breached'],
      );
      const breached = planMilestones(
        facts({
          resolutionDueAt: null,
          emitted: [{ type: 'sla.breached', kind: 'first_response', dueAt: '2026-01-01T11:00:00.000Z' }],
        }),
        0.75,
        created,
      );
      assert.deepEqual(
        breached.map((m) => m.type),
        ['sla.breached'],
        'the breach itself is filtered by the watch, which knows what was emitted',
      );
    });
  });

  describe('against Temporal and the outbox', () => {
    const { db } = testDatabase();
    const taskQueue = uniqueTaskQueue('sla');
    let pipeline: TestPipeline;
    let org: TestOrganization;

    before(async () => {
      await truncateAll(); // the relay would otherwise first deliver every earlier test file's events
      pipeline = await startPipeline(taskQueue);
      org = await makeOrganization();
    });
    after(async () => {
      await pipeline?.stop();
    });

    const secondsFromNow = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    const slaEvents = (ticketId: string) =>
      db
        .select()
        .from(ticketEvents)
        .where(and(eq(ticketEvents.supportRequestId, ticketId), like(ticketEvents.type, 'sla.%')))
        .orderBy(asc(ticketEvents.id));
    const watchStatus = async (ticketId: string) =>
      (await (await testTemporal()).client.workflow.getHandle(workflowIds.sla(ticketId)).describe()).status.name;

    it('warns after three quarters of the window, then reports the breach at the due time, once each', async () => {
      const ticket = await createTicket(db, org.scope, {
        subject: 'Server down',
        firstResponseDueAt: secondsFromNow(3),
      });
      const [row] = await db.select().from(supportRequests).where(eq(supportRequests.id, ticket.id));
      const createdAt = row!.createdAt.getTime();
      const dueAt = Date.parse(ticket.firstResponseDueAt!);

      const events = await eventually(
        async () => {
          const events = await slaEvents(ticket.id);
          assert.deepEqual(
            events.map((e) => e.type),
            ['sla.warning', 'sla.breached'],
          );
          return events;
        },
        { timeoutMs: 10_000 },
      );
      const [warning, breach] = events as [(typeof events)[0], (typeof events)[0]];
      const warnAt = createdAt + 0.75 * (dueAt - createdAt);
      assert.ok(warning.createdAt.getTime() >= warnAt - 50, 'the warning does not come early');
      assert.ok(warning.createdAt.getTime() < dueAt, 'the warning comes before the due time');
      assert.ok(breach.createdAt.getTime() >= dueAt - 50, 'the breach does not come early');
      assert.deepEqual(warning.payload, {
        ticket: (warning.payload as { ticket: unknown }).ticket,
        kind: 'first_response',
        dueAt: ticket.firstResponseDueAt,
        elapsedShare: (warning.payload as { elapsedShare: number }).elapsedShare,
      });
      assert.ok((warning.payload as { elapsedShare: number }).elapsedShare >= 0.75);

      // Both went out through the outbox like any ticket event, and the watch ended with nothing left to watch.
      const temporal = await testTemporal();
      await eventually(async () => assert.ok((await slaEvents(ticket.id)).every((e) => e.dispatchedAt !== null)));
      await eventually(async () => assert.equal(await watchStatus(ticket.id), 'COMPLETED'));
      const watch = await temporal.client.workflow.getHandle(workflowIds.sla(ticket.id)).describe();
      assert.equal(watch.typedSearchAttributes.get(searchAttributes.TicketId), ticket.id);
      assert.equal(watch.typedSearchAttributes.get(searchAttributes.OrganizationId), org.organizationId);
      assert.equal(watch.typedSearchAttributes.get(searchAttributes.IntegrationType), 'sla');
    });

    it('stops watching the first response once an agent answers publicly', async () => {
      const ticket = await createTicket(db, org.scope, { subject: 'Question', firstResponseDueAt: secondsFromNow(2) });
      await eventually(async () => assert.equal(await watchStatus(ticket.id), 'RUNNING'));
      await addComment(db, org.scope, ticket.id, { body: 'Looking into it', isPublic: true });
      await eventually(async () => assert.equal(await watchStatus(ticket.id), 'COMPLETED'));
      await new Promise((r) => setTimeout(r, 2_500));
      assert.deepEqual(await slaEvents(ticket.id), []);
    });

    it('stops when the ticket is solved', async () => {
      const ticket = await createTicket(db, org.scope, { subject: 'Fixed fast', resolutionDueAt: secondsFromNow(2) });
      await eventually(async () => assert.equal(await watchStatus(ticket.id), 'RUNNING'));
      await updateTicket(db, org.scope, ticket.id, { version: ticket.version, status: 'solved' });
      await eventually(async () => assert.equal(await watchStatus(ticket.id), 'COMPLETED'));
      await new Promise((r) => setTimeout(r, 2_500));
      assert.deepEqual(await slaEvents(ticket.id), []);
    });

    it('re-plans when the due time moves, and fires only for the new one', async () => {
      const ticket = await createTicket(db, org.scope, {
        subject: 'Moving target',
        resolutionDueAt: secondsFromNow(2),
      });
      await eventually(async () => assert.equal(await watchStatus(ticket.id), 'RUNNING'));
      const moved = await updateTicket(db, org.scope, ticket.id, {
        version: ticket.version,
        resolutionDueAt: secondsFromNow(4),
      });
      const events = await eventually(
        async () => {
          const events = await slaEvents(ticket.id);
          assert.equal(events.length, 2);
          return events;
        },
        { timeoutMs: 10_000 },
      );
      assert.deepEqual(
        events.map((e) => [e.type, (e.payload as { dueAt: string }).dueAt]),
        [
          ['sla.warning', moved.resolutionDueAt],
          ['sla.breached', moved.resolutionDueAt],
        ],
      );
      assert.ok(events[1]!.createdAt.getTime() >= Date.parse(moved.resolutionDueAt!) - 50);
    });
  });
});
