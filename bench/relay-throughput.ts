// How many ticket events one outbox relay dispatches per second, on its own: a backlog of events written while it
// is stopped, then drained by one relay with the product's subscribers (webhooks fan-out, SLA, Linear routing), with
// 0, 1 and 10 webhook endpoints subscribed. The wakes go to a real Temporal server; the endpoints' workflows sit on
// a queue no worker serves, so only the relay's own work is measured. The ceiling is a plain loop over the same
// batches that only marks them dispatched (no subscriber), in the same run.
// Not part of `npm test`; run: TEST_TEMPORAL_PORT=<free port> mocha --no-config --require test/support/root-hooks.ts
// --timeout 600000 bench/relay-throughput.ts  (env: RELAY_EVENTS, default 20000 per case).
import assert from 'node:assert/strict';
import { ticketEvents } from '@switchboard/database';
import { isNull, sql } from 'drizzle-orm';
import { makeEndpoint } from '../activities/webhooks/test-support.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { createTicket } from '../domain/tickets/create-ticket.ts';
import { createOutboxRelay } from '../outbox/relay.ts';
import { relaySubscribers } from '../outbox/relay-subscribers.ts';
import { loadIntegrationServers, loadServiceConfig } from '../packages/integrations/index.ts';
import { testDatabase, truncateAll } from '../test/support/database.ts';
import { testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';

const EVENTS = Number(process.env.RELAY_EVENTS ?? 20_000);
const TICKETS = 200;

describe('outbox relay throughput', function () {
  this.timeout(600_000);
  const results: string[] = [];
  after(() => {
    console.log('\n| case | events | seconds | events/s | batches |');
    console.log('| --- | --- | --- | --- | --- |');
    for (const r of results) console.log(r);
  });

  for (const endpointCount of [-1, 0, 1, 10]) {
    const name = endpointCount < 0 ? 'ceiling: mark dispatched only' : `${endpointCount} webhook endpoint(s)`;
    it(name, async () => {
      const { db, pool } = testDatabase();
      const temporal = await testTemporal();
      await truncateAll();
      const org = await makeOrganization();
      for (let i = 0; i < Math.max(0, endpointCount); i++)
        await makeEndpoint(org.organizationId, {
          url: `https://relay-bench-${i}.example.test/hook`,
          eventTypes: ['ticket.assigned'],
        });
      const tickets = [];
      for (let i = 0; i < TICKETS; i++) tickets.push(await createTicket(db, org.scope, { subject: `relay ${i}` }));
      // The creates' own events go first, untimed.
      await db.update(ticketEvents).set({ dispatchedAt: new Date() }).where(isNull(ticketEvents.dispatchedAt));
      const ids = tickets.map((t) => t.id);
      await db.execute(sql`
        insert into ticket_events (organization_id, support_request_id, type, payload, actor_type)
        select ${org.organizationId}, (${sql.param(ids)}::uuid[])[1 + g % ${TICKETS}], 'ticket.assigned',
          jsonb_build_object('ticket', jsonb_build_object('id', (${sql.param(ids)}::uuid[])[1 + g % ${TICKETS}],
            'subject', 'relay bench', 'status', 'open', 'priority', 'normal')), 'system'
        from generate_series(1, ${EVENTS}) g`);

      const config = loadServiceConfig();
      const servers = (await loadIntegrationServers()).map((m) => m.server);
      const relay = createOutboxRelay({
        pool,
        temporal: temporal.client,
        taskQueue: uniqueTaskQueue('relay-bench-no-worker'),
        subscribers: endpointCount < 0 ? [] : relaySubscribers(servers, config),
      });
      const started = performance.now();
      relay.start();
      for (;;) {
        const metrics = relay.metrics();
        if (metrics.dispatched >= EVENTS) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const seconds = (performance.now() - started) / 1000;
      const { batches } = relay.metrics();
      await relay.stop();
      results.push(`| ${name} | ${EVENTS} | ${seconds.toFixed(1)} | ${Math.round(EVENTS / seconds)} | ${batches} |`);
      assert.ok(seconds > 0);
    });
  }
});
