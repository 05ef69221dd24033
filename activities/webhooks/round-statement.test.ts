// The round statement serves several endpoints' lanes in one round trip, and a worker's lanes share a few of them at
// a time (round-statement.ts). Whatever shares a statement, each lane gets its own endpoint's deliveries, each
// delivery is claimed once, and one lane's bad round fails that lane alone.
import assert from 'node:assert/strict';
import type { Database } from '@switchboard/database';
import type { Logger } from '../../common/logger.ts';
import { makeOrganization } from '../../domain/test-fixtures.ts';
import { loadServiceConfig } from '../../packages/integrations/index.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { testDatabase } from '../../test/support/database.ts';
import { fanOutDeliveries } from './enqueue.ts';
import { coalescedRounds, type RoundRequest, runRoundStatement } from './round-statement.ts';
import { attemptsOf, deliveriesOf, makeEndpoint, syntheticEvent, type TestEndpoint } from './test-support.ts';

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

/** The database, with every round statement's endpoints recorded in the order they ran. */
function countingStatements(): { db: Database; statements: string[][] } {
  const { db } = testDatabase();
  const statements: string[][] = [];
  const client = {
    query: (config: { text: string; values: unknown[] }) => {
      statements.push(config.values[1] as string[]);
      return db.$client.query(config);
    },
  };
  return { db: Object.create(db, { $client: { value: client } }) as Database, statements };
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

  it('runs a failed shared statement again one round at a time: only the bad round fails', async () => {
    const [good, bad, alsoGood] = await endpointsWithDue(3, 2);
    const { db, statements } = countingStatements();
    const warnings: string[] = [];
    const logger = {
      warn: (_fields: object, message: string) => {
        warnings.push(message);
      },
    } as unknown as Pick<Logger, 'warn'>;
    const rounds = coalescedRounds(db, { inFlight: 1, maxRows: 1_000, logger });
    const busy = rounds(claimOf(good!, 1));
    // A lease beyond PostgreSQL's integer fails the statement that carries it.
    const results = await Promise.allSettled([
      rounds(claimOf(bad!, 1, 3_000_000_000)),
      rounds(claimOf(alsoGood!, 2)),
      rounds(claimOf(good!, 1)),
    ]);
    await busy;
    assert.equal(results[0]!.status, 'rejected');
    assert.equal(results[1]!.status, 'fulfilled');
    assert.equal(results[2]!.status, 'fulfilled');
    assert.equal((results[1] as PromiseFulfilledResult<unknown[]>).value.length, 2);
    assert.equal((results[2] as PromiseFulfilledResult<unknown[]>).value.length, 1);
    assert.equal(warnings.length, 1);
    // The shared statement changed nothing: the bad endpoint's deliveries are as they were.
    assert.ok((await deliveriesOf(bad!.id)).every((d) => d.attemptCount === 0 && d.leaseUntil === null));
    assert.ok(statements.length >= 4);
  });
});
