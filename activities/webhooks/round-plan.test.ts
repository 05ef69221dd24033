// The round statement's plan, as PostgreSQL makes it for one execution: a round writes the outcomes of one window
// (a few to a few hundred deliveries) into tables that keep every delivery and attempt, so it must find those rows
// by index whatever the tables' size, never read a table whole (deliver-batch.ts, ROUND_STATEMENT).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { testDatabase } from '../../test/support/database.ts';
import { type OutcomeRow, ROUND_STATEMENT, roundParameters } from './deliver-batch.ts';
import { makeEndpoint } from './test-support.ts';

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };

function relationsReadWhole(node: PlanNode, found: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && node['Relation Name']) found.push(node['Relation Name']);
  for (const child of node.Plans ?? []) relationsReadWhole(child, found);
  return found;
}

describe('the delivery round statement', () => {
  it('finds the outcomes it records by index in tables of thousands of deliveries, not by reading them whole', async () => {
    const { db } = testDatabase();
    const org = await makeOrganization();
    const endpoint = await makeEndpoint(org.organizationId, { url: 'http://127.0.0.1:9/' });
    const history = 5000;
    const prefix = `msg_plan_${randomUUID().slice(0, 8)}_`;
    // A delivered history (one attempt each), and ten deliveries whose attempt is on the wire.
    await db.execute(sql`insert into webhook_messages (id, organization_id, event_type, payload)
      select ${prefix} || g, ${org.organizationId}, 'ticket.updated', '{}'::jsonb from generate_series(1, ${history}) g`);
    await db.execute(sql`insert into webhook_deliveries (organization_id, endpoint_id, message_id, status, attempt_count,
        next_attempt_at, lease_until)
      select ${org.organizationId}, ${endpoint.id}, ${prefix} || g,
        (case when g <= 10 then 'pending' else 'succeeded' end)::webhook_delivery_status, 1, now(),
        case when g <= 10 then now() + interval '1 minute' end
      from generate_series(1, ${history}) g`);
    await db.execute(sql`insert into webhook_attempts (organization_id, delivery_id, endpoint_id, attempt_number,
        started_at, outcome)
      select organization_id, id, endpoint_id, 1, now(),
        case when status = 'pending' then 'sending' else 'succeeded' end
      from webhook_deliveries where endpoint_id = ${endpoint.id}`);
    await db.execute(sql`analyze webhook_deliveries`);
    await db.execute(sql`analyze webhook_attempts`);

    const onTheWire = await db.execute<{ id: string }>(sql`select id from webhook_deliveries
      where endpoint_id = ${endpoint.id} and status = 'pending'`);
    const at = new Date().toISOString();
    const rows: OutcomeRow[] = onTheWire.rows.map(({ id }) => ({
      id,
      attempt: 1,
      sent: true,
      status: 'succeeded',
      next_attempt_at: null,
      last_attempt_at: at,
      succeeded_at: at,
      started_at: at,
      duration_ms: 3,
      status_code: 200,
      excerpt: 'ok',
      error_class: null,
      outcome: 'succeeded',
    }));
    assert.equal(rows.length, 10);

    const result = await db.$client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
      text: `explain (format json) ${ROUND_STATEMENT}`,
      values: roundParameters({ id: endpoint.id, organizationId: org.organizationId }, rows, {
        size: 16,
        leaseMs: 30_000,
      }),
    });
    const plan = result.rows[0]!['QUERY PLAN'][0]!.Plan;
    assert.deepEqual(relationsReadWhole(plan), []);
  });
});
