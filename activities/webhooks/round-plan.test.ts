// The round statement (deliver-batch.ts, ROUND_STATEMENT): the one round trip that records a window's outcomes and
// claims the next. Its plan, as PostgreSQL makes it for one execution, must find a small round's rows by index in
// tables that keep every delivery and attempt; and whatever a receiver answers must be recordable.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { type Receiver, startReceiver } from '../../test/receivers/webhook-receiver.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createSafePoster } from '../http/safe-post.ts';
import { deliverDueBatch } from './deliver-batch.ts';
import { fanOutDeliveries } from './enqueue.ts';
import { type OutcomeRow, ROUND_STATEMENT, roundParameters } from './round-statement.ts';
import { attemptsOf, batchDeps, deliveriesOf, makeEndpoint, syntheticEvent } from './test-support.ts';

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };

/** The tables that keep every delivery and attempt: the ones a round must never read whole. */
const GROWING = ['webhook_deliveries', 'webhook_attempts'];

function growingTablesReadWhole(node: PlanNode, found: string[] = []): string[] {
  if (node['Node Type'] === 'Seq Scan' && GROWING.includes(node['Relation Name'] ?? ''))
    found.push(node['Relation Name']!);
  for (const child of node.Plans ?? []) growingTablesReadWhole(child, found);
  return found;
}

/**
 * The growing tables read whole without the round's ids as a filter: every row of them hashed or compared, whatever
 * the round's size.
 */
function growingTablesReadUnfiltered(node: PlanNode, found: string[] = []): string[] {
  if (
    node['Node Type'] === 'Seq Scan' &&
    GROWING.includes(node['Relation Name'] ?? '') &&
    !/= ANY \(/.test((node as { Filter?: string }).Filter ?? '')
  )
    found.push(node['Relation Name']!);
  for (const child of node.Plans ?? []) growingTablesReadUnfiltered(child, found);
  return found;
}

/** Whole reads of the attempts table filtered by outcome: plans that rest on the estimate of 'sending'. */
function attemptsSearchedByOutcome(node: PlanNode): number {
  const own =
    node['Node Type'] === 'Seq Scan' &&
    node['Relation Name'] === 'webhook_attempts' &&
    /outcome/.test((node as { Filter?: string }).Filter ?? '')
      ? 1
      : 0;
  return own + (node.Plans ?? []).reduce((n, child) => n + attemptsSearchedByOutcome(child), 0);
}

/**
 * Runs `test` over an endpoint with `history` delivered deliveries (one attempt each), the first `onTheWire` of them
 * pending with their attempt on the wire ('sending'), analyzed as autovacuum would; removes them afterwards, and
 * analyzes again: other test files share these tables, and their plans should not meet this history.
 */
async function withAnalyzedHistory(
  { history, onTheWire }: { history: number; onTheWire: number },
  test: (made: { org: { organizationId: string }; endpoint: { id: string } }) => Promise<void>,
) {
  const { db } = testDatabase();
  const org = await makeOrganization();
  const endpoint = await makeEndpoint(org.organizationId, { url: 'http://127.0.0.1:9/' });
  const prefix = `msg_plan_${randomUUID().slice(0, 8)}_`;
  await db.execute(sql`insert into webhook_messages (id, organization_id, event_type, payload)
    select ${prefix} || g, ${org.organizationId}, 'ticket.updated', '{}'::jsonb from generate_series(1, ${history}) g`);
  await db.execute(sql`insert into webhook_deliveries (organization_id, endpoint_id, message_id, status, attempt_count,
      next_attempt_at, lease_until)
    select ${org.organizationId}, ${endpoint.id}, ${prefix} || g,
      (case when g <= ${onTheWire} then 'pending' else 'succeeded' end)::webhook_delivery_status, 1, now(),
      case when g <= ${onTheWire} then now() + interval '1 minute' end
    from generate_series(1, ${history}) g`);
  await db.execute(sql`insert into webhook_attempts (organization_id, delivery_id, endpoint_id, attempt_number,
      started_at, outcome)
    select organization_id, id, endpoint_id, 1, now(),
      case when status = 'pending' then 'sending' else 'succeeded' end
    from webhook_deliveries where endpoint_id = ${endpoint.id}`);
  try {
    await db.execute(sql`analyze webhook_deliveries`);
    await db.execute(sql`analyze webhook_attempts`);
    await test({ org, endpoint });
  } finally {
    await db.execute(sql`delete from webhook_attempts where endpoint_id = ${endpoint.id}`);
    await db.execute(sql`delete from webhook_deliveries where endpoint_id = ${endpoint.id}`);
    await db.execute(sql`delete from webhook_messages where id like ${`${prefix}%`}`);
    await db.execute(sql`analyze webhook_deliveries`);
    await db.execute(sql`analyze webhook_attempts`);
  }
}

/** Outcome rows of deliveries whose first attempt was just answered 200. */
function answeredRows(ids: string[]): OutcomeRow[] {
  const at = new Date().toISOString();
  return ids.map((id) => ({
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
}

/** The plan PostgreSQL makes for one execution of a round that records `rows` and claims 16 more. */
async function roundPlan(endpoint: { id: string; organizationId: string }, rows: OutcomeRow[]): Promise<PlanNode> {
  const result = await testDatabase().db.$client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>({
    text: `explain (format json) ${ROUND_STATEMENT}`,
    values: roundParameters([{ endpoint, rows, claim: { size: 16, leaseMs: 30_000 } }]),
  });
  return result.rows[0]!['QUERY PLAN'][0]!.Plan;
}

/** The plan of a round that records the answers of all of the endpoint's deliveries on the wire (`count` of them). */
async function planAnsweringTheWire(
  { org, endpoint }: { org: { organizationId: string }; endpoint: { id: string } },
  count: number,
): Promise<PlanNode> {
  const onTheWire = await testDatabase().db.execute<{ id: string }>(sql`select id from webhook_deliveries
    where endpoint_id = ${endpoint.id} and status = 'pending'`);
  const rows = answeredRows(onTheWire.rows.map(({ id }) => id));
  assert.equal(rows.length, count);
  return roundPlan({ id: endpoint.id, organizationId: org.organizationId }, rows);
}

describe('the delivery round statement', () => {
  const config = loadServiceConfig();
  const webhooks = webhookSettings.of(config);
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
  });

  it("finds a window's outcomes by index in tables of thousands of deliveries, not by reading them whole", async () => {
    // A delivered history (one attempt each), and ten deliveries whose attempt is on the wire.
    await withAnalyzedHistory({ history: 5000, onTheWire: 10 }, async (made) => {
      assert.deepEqual(growingTablesReadWhole(await planAnsweringTheWire(made, 10)), []);
    });
  });

  it('never hashes a growing table whole to write a large round, however small the table', async () => {
    // 256 rows in tables of a few thousand: priced as 256 index probes, each write (the attempts' outcomes, the
    // deliveries' settling) read its table whole into a hash instead, 24,200 rows for 33 ms of a 37 ms statement in
    // the webhooks benchmark's first round. With the round's ids as an array on each write, a table that small may
    // still be read, but only the round's rows are kept and hashed (and larger tables are read by index).
    await withAnalyzedHistory({ history: 3000, onTheWire: 256 }, async (made) => {
      assert.deepEqual(growingTablesReadUnfiltered(await planAnsweringTheWire(made, 256)), []);
    });
  });

  it('finds a large round’s attempts from its rows after an ANALYZE that saw no attempt on the wire', async () => {
    // Autovacuum analyzes the attempts between bursts, when none is 'sending': the planner then takes 'sending' for one
    // row, and planned from the table, the round read every attempt ever made (and in the webhooks benchmark compared
    // each one on the wire with each of the round's 1,200 rows).
    const { db } = testDatabase();
    await withAnalyzedHistory({ history: 3000, onTheWire: 0 }, async ({ org, endpoint }) => {
      const some = await db.execute<{ id: string }>(sql`select id from webhook_deliveries
        where endpoint_id = ${endpoint.id} limit 1200`);
      const at = new Date().toISOString();
      // Half answered, half given back unsent: both the recording and the withdrawal find their attempts.
      const rows: OutcomeRow[] = some.rows.map(({ id }, i) => ({
        ...(i % 2 === 0
          ? { sent: true, status: 'succeeded', succeeded_at: at, outcome: 'succeeded', status_code: 200 }
          : { sent: false, status: 'pending', succeeded_at: null, outcome: null, status_code: null }),
        id,
        attempt: 1,
        next_attempt_at: null,
        last_attempt_at: at,
        started_at: at,
        duration_ms: 3,
        excerpt: '',
        error_class: null,
      }));
      const plan = await roundPlan({ id: endpoint.id, organizationId: org.organizationId }, rows);
      // Found by delivery and attempt number from the round's rows, never searched for by outcome over the table.
      assert.deepEqual(attemptsSearchedByOutcome(plan), 0);
    });
  });

  it("records an answer whose excerpt would be cut inside an emoji, the emoji's halves dropped together", async () => {
    // A redirect's excerpt is "redirect to <location> not followed\n" and the body, cut to 2,048 UTF-16 code units.
    // The body puts an emoji (two code units) across that cut. Half an emoji is not text: the round statement that
    // records it must not fail (which would leave the round's outcomes unrecorded and send them again, and again).
    const location = 'https://example.test/moved';
    const prefix = `redirect to ${location} not followed\n`;
    const body = `${'a'.repeat(2047 - prefix.length)}😀${'b'.repeat(20)}`;
    receiver.route('/moved-emoji', () => ({ status: 301, headers: { location }, body }));
    const org = await makeOrganization();
    const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/moved-emoji') });
    await fanOutDeliveries(testDatabase().db, [syntheticEvent(org.organizationId)], webhooks.payloadLimitBytes);
    const poster = createSafePoster({ allowHttp: true, allowCidrs: webhooks.allowCidrs, timeoutMs: 2_000 });
    try {
      const result = await deliverDueBatch(batchDeps(poster, { leaseMarginMs: 100 }), {
        endpointId: endpoint.id,
        organizationId: org.organizationId,
        maxBatch: 10,
      });
      assert.equal(result.sent, 1);
      const [delivery] = await deliveriesOf(endpoint.id);
      const [attempt] = await attemptsOf(delivery!.id);
      assert.equal(attempt!.statusCode, 301);
      assert.equal(attempt!.responseExcerpt, prefix + 'a'.repeat(2047 - prefix.length));
    } finally {
      poster.close();
      // A 301 is retried later: its pending delivery is not left for other files' rounds to meet.
      const { db } = testDatabase();
      await db.execute(sql`delete from webhook_attempts where endpoint_id = ${endpoint.id}`);
      await db.execute(sql`delete from webhook_deliveries where endpoint_id = ${endpoint.id}`);
    }
  });
});
