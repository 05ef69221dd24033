// The round statement serves several endpoints' lanes in one round trip, and a worker's lanes share a few of them at
// a time (round-statement.ts). Whatever shares a statement, each lane gets its own endpoint's deliveries, each
// delivery is claimed once, and one lane's bad round fails that lane alone.
import assert from 'node:assert/strict';
import type { Database } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import type { Logger } from '../../common/logger.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { startReceiver } from '../../test/receivers/webhook-receiver.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createSafePoster } from '../http/safe-post.ts';
import { deliverDueBatch } from './deliver-batch.ts';
import { fanOutDeliveries } from './enqueue.ts';
import {
  coalescedRounds,
  directRounds,
  type OutcomeRow,
  type RoundRequest,
  runRoundStatement,
} from './round-statement.ts';
import {
  attemptsOf,
  batchDeps,
  deliveriesOf,
  endpointRow,
  integrationEventsOf,
  makeEndpoint,
  syntheticEvent,
  type TestEndpoint,
} from './test-support.ts';

const payloadLimit = webhookSettings.of(loadServiceConfig()).payloadLimitBytes;

/** `count` endpoints of one organisation, each with `deliveries` due now. */
async function endpointsWithDue(count: number, deliveries: number): Promise<TestEndpoint[]> {
  const org = await makeOrganization();
  const endpoints: TestEndpoint[] = [];
  for (let i = 0; i < count; i++)
    endpoints.push(await makeEndpoint(org.organizationId, { url: `https://receiver.example.test/${i}` }));
  const events = Array.from({ length: deliveries }, () => syntheticEvent(org.organizationId));
  await fanOutDeliveries(testDatabase().db, events, payloadLimit);
  return endpoints;
}

const claimOf = (endpoint: TestEndpoint, size: number, leaseMs = 30_000): RoundRequest => ({
  endpoint: { id: endpoint.id, organizationId: endpoint.organizationId },
  rows: [],
  claim: { size, leaseMs },
});

/** A sent delivery's outcome row: delivered, or failed with a retry a minute later (`pending`). */
function sent(id: string, attempt: number, status: 'succeeded' | 'pending'): OutcomeRow {
  const at = new Date().toISOString();
  return {
    id,
    attempt,
    sent: true,
    status,
    next_attempt_at: status === 'pending' ? new Date(Date.now() + 60_000).toISOString() : null,
    last_attempt_at: at,
    succeeded_at: status === 'succeeded' ? at : null,
    started_at: at,
    duration_ms: 4,
    status_code: status === 'succeeded' ? 200 : 500,
    excerpt: null,
    error_class: null,
    outcome: status === 'succeeded' ? 'succeeded' : 'failed',
  };
}

/** The database, with every round statement's endpoints recorded in the order they ran. */
function countingStatements(): { db: Database; statements: string[][]; mostAtOnce: () => number } {
  const { db } = testDatabase();
  const statements: string[][] = [];
  let running = 0;
  let most = 0;
  const client = {
    query: async (config: { text: string; values: unknown[] }) => {
      statements.push(config.values[1] as string[]);
      running++;
      most = Math.max(most, running);
      try {
        return await db.$client.query(config);
      } finally {
        running--;
      }
    },
  };
  return { db: Object.create(db, { $client: { value: client } }) as Database, statements, mostAtOnce: () => most };
}

describe('the delivery round statement, shared by several endpoints', () => {
  it("claims each endpoint's own deliveries in one statement, each delivery once, each with its attempt opened", async () => {
    const endpoints = await endpointsWithDue(4, 5);
    const claimed = await runRoundStatement(
      testDatabase().db,
      endpoints.map((e) => claimOf(e, 3)),
    );
    const seen = new Set<string>();
    for (const [i, endpoint] of endpoints.entries()) {
      const own = new Set((await deliveriesOf(endpoint.id)).map((d) => d.id));
      assert.equal(claimed[i]!.length, 3);
      for (const delivery of claimed[i]!) {
        assert.ok(own.has(delivery.id), 'a delivery of another endpoint was claimed for this one');
        assert.ok(!seen.has(delivery.id), 'a delivery was claimed twice');
        seen.add(delivery.id);
        assert.equal(delivery.attempt_count, 1);
        const [attempt] = await attemptsOf(delivery.id);
        assert.equal(attempt!.outcome, 'sending');
        assert.equal(attempt!.endpointId, endpoint.id);
      }
    }
  });

  it("claims nothing for an endpoint named with another organisation's id", async () => {
    const [endpoint] = await endpointsWithDue(1, 2);
    const other = await makeOrganization();
    const [claimed] = await runRoundStatement(testDatabase().db, [
      { ...claimOf(endpoint!, 2), endpoint: { id: endpoint!.id, organizationId: other.organizationId } },
    ]);
    assert.deepEqual(claimed, []);
    assert.ok((await deliveriesOf(endpoint!.id)).every((d) => d.attemptCount === 0));
  });

  it('refuses two rounds of one endpoint in one statement (they would claim the same deliveries)', async () => {
    const [endpoint] = await endpointsWithDue(1, 2);
    await assert.rejects(
      runRoundStatement(testDatabase().db, [claimOf(endpoint!, 1), claimOf(endpoint!, 1)]),
      /one request per endpoint/,
    );
  });

  it('runs the rounds asked while the statements are busy together, in the next statement', async () => {
    const endpoints = await endpointsWithDue(10, 2);
    const { db, statements } = countingStatements();
    const rounds = coalescedRounds(db, { inFlight: 1, maxRows: 1_000 });
    const claimed = await Promise.all(endpoints.map((e) => rounds(claimOf(e, 2))));
    // The first round runs at once, alone; the nine asked meanwhile share the second statement.
    assert.deepEqual(
      statements.map((s) => s.length),
      [1, 9],
    );
    for (const [i, endpoint] of endpoints.entries()) {
      const own = new Set((await deliveriesOf(endpoint.id)).map((d) => d.id));
      assert.equal(claimed[i]!.length, 2);
      assert.ok(claimed[i]!.every((d) => own.has(d.id)));
    }
  });

  it("keeps a second round of an endpoint for the statement after, and a statement's rows within its limit", async () => {
    const [first, busy, other, large] = await endpointsWithDue(4, 6);
    const { db, statements } = countingStatements();
    const rounds = coalescedRounds(db, { inFlight: 1, maxRows: 5 });
    const claimed = await Promise.all([
      rounds(claimOf(first!, 1)),
      rounds(claimOf(busy!, 2)),
      rounds(claimOf(busy!, 2)),
      rounds(claimOf(other!, 2)),
      rounds(claimOf(large!, 6)),
    ]);
    assert.deepEqual(statements, [
      [first!.id],
      // The second round of `busy` waits; `other` goes with the first (2 + 2 rows of 5).
      [busy!.id, other!.id],
      // Oldest first: `busy` again, then `large`, which alone is over the limit and so goes alone next.
      [busy!.id],
      [large!.id],
    ]);
    const busyClaims = [...claimed[1]!, ...claimed[2]!].map((d) => d.id);
    assert.equal(new Set(busyClaims).size, 4);
    assert.equal(claimed[4]!.length, 6);
  });

  it("records each lane's outcomes in a shared statement, each fenced by its attempt number", async () => {
    const [a, b] = await endpointsWithDue(2, 3);
    const [claimedA, claimedB] = await runRoundStatement(testDatabase().db, [claimOf(a!, 3), claimOf(b!, 3)]);
    const [a1, a2, a3] = claimedA!;
    const [b1, b2, b3] = claimedB!;
    await runRoundStatement(testDatabase().db, [
      {
        endpoint: { id: a!.id, organizationId: a!.organizationId },
        // a3's outcome names an attempt it is not at (a newer attempt claimed it since): it must change nothing.
        rows: [sent(a1!.id, 1, 'succeeded'), sent(a2!.id, 1, 'succeeded'), sent(a3!.id, 2, 'succeeded')],
        claim: null,
      },
      {
        endpoint: { id: b!.id, organizationId: b!.organizationId },
        rows: [
          sent(b1!.id, 1, 'pending'),
          sent(b2!.id, 1, 'succeeded'),
          // Claimed, never sent: given back, its attempt withdrawn.
          { ...sent(b3!.id, 1, 'pending'), sent: false, status: null },
        ],
        claim: null,
      },
    ]);
    const state = async (id: string, endpointId: string) => {
      const delivery = (await deliveriesOf(endpointId)).find((d) => d.id === id)!;
      const attempts = await attemptsOf(id);
      return { status: delivery.status, count: delivery.attemptCount, leased: delivery.leaseUntil !== null, attempts };
    };
    const [sa1, sa3, sb1, sb3] = await Promise.all([
      state(a1!.id, a!.id),
      state(a3!.id, a!.id),
      state(b1!.id, b!.id),
      state(b3!.id, b!.id),
    ]);
    assert.deepEqual(
      [sa1.status, sa1.count, sa1.leased, sa1.attempts[0]!.outcome],
      ['succeeded', 1, false, 'succeeded'],
    );
    assert.deepEqual([sa3.status, sa3.count, sa3.leased, sa3.attempts[0]!.outcome], ['pending', 1, true, 'sending']);
    assert.deepEqual([sb1.status, sb1.count, sb1.leased, sb1.attempts[0]!.statusCode], ['pending', 1, false, 500]);
    assert.equal(sb1.attempts[0]!.outcome, 'failed');
    assert.deepEqual([sb3.status, sb3.count, sb3.leased, sb3.attempts.length], ['pending', 0, false, 0]);
  });

  it('switches off each endpoint of a shared statement answered 410, once, with its own reason', async () => {
    const [a, b, off] = await endpointsWithDue(3, 1);
    await testDatabase().db.execute(sql`update integration_configs set is_active = false where id = ${off!.id}`);
    const request = (e: TestEndpoint, reason: string): RoundRequest => ({
      endpoint: { id: e.id, organizationId: e.organizationId },
      rows: [],
      claim: null,
      disableReason: reason,
    });
    await runRoundStatement(testDatabase().db, [
      request(a!, 'the endpoint answered 410 (a)'),
      request(b!, 'the endpoint answered 410 (b)'),
      request(off!, 'the endpoint answered 410 (off)'),
    ]);
    for (const [e, reason] of [
      [a!, 'the endpoint answered 410 (a)'],
      [b!, 'the endpoint answered 410 (b)'],
    ] as const) {
      const row = await endpointRow(e.id);
      assert.equal(row.isActive, false);
      assert.equal(row.disabledReason, reason);
      const events = (await integrationEventsOf(e.id)).filter((ev) => ev.type === 'endpoint.disabled');
      assert.deepEqual(
        events.map((ev) => ev.payload),
        [{ reason }],
      );
    }
    // Already off: not switched off again, no second event.
    assert.deepEqual(
      (await integrationEventsOf(off!.id)).filter((ev) => ev.type === 'endpoint.disabled'),
      [],
    );
  });

  it('runs a shared statement PostgreSQL refused again, one round at a time, in its turn: only the bad round fails', async () => {
    const [good, bad, alsoGood] = await endpointsWithDue(3, 2);
    // The bad round's outcome row fails as the statement runs, not as its parameters are read (a status the enum
    // does not have, cast when the row is settled): the shared statement, claims and all, must have changed nothing.
    const [badClaim] = await runRoundStatement(testDatabase().db, [claimOf(bad!, 1)]);
    const { db, statements, mostAtOnce } = countingStatements();
    const warnings: string[] = [];
    const logger = {
      warn: (_fields: object, message: string) => {
        warnings.push(message);
      },
    } as unknown as Pick<Logger, 'warn'>;
    const rounds = coalescedRounds(db, { inFlight: 1, maxRows: 1_000, logger });
    const busy = rounds(claimOf(good!, 1));
    const badRound: RoundRequest = {
      endpoint: { id: bad!.id, organizationId: bad!.organizationId },
      rows: [{ ...sent(badClaim![0]!.id, 1, 'succeeded'), status: 'exploded' as 'failed' }],
      claim: { size: 1, leaseMs: 30_000 },
    };
    const shared = [rounds(badRound), rounds(claimOf(alsoGood!, 2)), rounds(claimOf(good!, 1))];
    // Asked while the shared statement runs: it waits until that statement's rounds have run again one by one.
    await new Promise((resolve) => setImmediate(resolve));
    const later = rounds(claimOf(alsoGood!, 0));
    const results = await Promise.allSettled(shared);
    await busy;
    await later;
    assert.equal(results[0]!.status, 'rejected');
    assert.equal((results[1] as PromiseFulfilledResult<unknown[]>).value.length, 2);
    assert.equal((results[2] as PromiseFulfilledResult<unknown[]>).value.length, 1);
    assert.equal(warnings.length, 1);
    assert.deepEqual(statements, [
      [good!.id],
      [bad!.id, alsoGood!.id, good!.id],
      [bad!.id],
      [alsoGood!.id],
      [good!.id],
      [alsoGood!.id],
    ]);
    assert.equal(mostAtOnce(), 1);
    // Nothing of the refused statement stayed: the bad endpoint's second delivery was never claimed, its first is
    // still on its first attempt.
    const deliveries = await deliveriesOf(bad!.id);
    assert.deepEqual(deliveries.map((d) => d.attemptCount).sort(), [0, 1]);
    assert.equal((await attemptsOf(badClaim![0]!.id))[0]!.outcome, 'sending');
  });

  it('fails every round of a shared statement whose answer was lost, and runs none again (it may have committed)', async () => {
    const [a, b] = await endpointsWithDue(2, 1);
    const { db, statements } = countingStatements();
    const lost = Object.create(db, {
      $client: {
        value: {
          query: (config: { text: string; values: unknown[] }) => {
            statements.push(config.values[1] as string[]);
            // What node-postgres throws when the connection drops mid-statement (no SQLSTATE), and what a server
            // that ends the session sends: neither says whether the statement committed.
            return Promise.reject(
              statements.length === 1
                ? new Error('Connection terminated unexpectedly')
                : Object.assign(new Error('terminating connection'), { severity: 'FATAL', code: '57P01' }),
            );
          },
        },
      },
    }) as Database;
    const rounds = coalescedRounds(lost, { inFlight: 1, maxRows: 1_000 });
    const first = rounds(claimOf(a!, 1));
    const results = await Promise.allSettled([rounds(claimOf(a!, 1)), rounds(claimOf(b!, 1))]);
    await first.catch(() => {});
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.deepEqual(statements, [[a!.id], [a!.id, b!.id]]);
  });

  it("keeps a round's deliveries leased while its outcomes wait their turn for a statement", async () => {
    const receiver = await startReceiver();
    const settings = webhookSettings.of(loadServiceConfig());
    const poster = createSafePoster({ allowHttp: true, allowCidrs: settings.allowCidrs, timeoutMs: 2_000 });
    try {
      const org = await makeOrganization();
      const endpoint = await makeEndpoint(org.organizationId, { url: receiver.url('/ok') });
      await fanOutDeliveries(testDatabase().db, [syntheticEvent(org.organizationId)], payloadLimit);
      const direct = directRounds(testDatabase().db);
      let written = false;
      const batch = deliverDueBatch(
        batchDeps(poster, {
          // The statement that records the round waits far longer than the round's lease (2.5 s): a queue of busy
          // shared statements ahead of it.
          rounds: async (request) => {
            if (request.rows.length > 0) {
              await new Promise((resolve) => setTimeout(resolve, 7_000));
              written = true;
            }
            return direct(request);
          },
        }),
        { endpointId: endpoint.id, organizationId: org.organizationId, maxBatch: 10 },
      );
      // Past the lease the round was claimed with, and before its outcome is written: another batch of the endpoint
      // (a newer attempt, say) finds nothing to claim.
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      assert.equal(written, false);
      const [stolen] = await runRoundStatement(testDatabase().db, [claimOf(endpoint, 10)]);
      assert.deepEqual(stolen, []);
      const result = await batch;
      assert.equal(result.succeeded, 1);
      assert.equal(receiver.requests.length, 1);
    } finally {
      poster.close();
      await receiver.close();
    }
  });
});
