// What the relay's subscribers read to decide who hears of a batch: the switched-on integrations of the batch's
// organisations, read once per batch for the types the subscribers declare, with the batch itself in the relay.
import assert from 'node:assert/strict';
import { integrationConfigs, schema } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { testDatabase } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { installationsOfBatch, installedRows, relayIntegrations } from './read-integrations.ts';

describe('relayIntegrations', () => {
  /** The test pool, seen through a database that counts the statements it sends. */
  function countingDatabase() {
    const { pool } = testDatabase();
    const sent: string[] = [];
    const view = new Proxy(pool, {
      get(target, property) {
        if (property === 'query')
          return (config: { text: string }, values?: unknown) => {
            sent.push(config.text);
            return target.query(config, values as unknown[]);
          };
        const value = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as pg.Pool;
    return { db: drizzle(view, { schema }) as unknown as ReturnType<typeof testDatabase>['db'], sent };
  }

  async function installations() {
    const { db } = testDatabase();
    const [ours, theirs] = [await makeOrganization(), await makeOrganization()];
    const add = (organizationId: string, integrationType: string, isActive = true) =>
      db
        .insert(integrationConfigs)
        .values({ organizationId, integrationType, name: integrationType, isActive })
        .returning({ id: integrationConfigs.id })
        .then((rows) => rows[0]!.id);
    const linear = await add(ours.organizationId, 'linear');
    await add(ours.organizationId, 'slack', false);
    const slack = await add(ours.organizationId, 'slack');
    await add(theirs.organizationId, 'linear');
    const email = await add(ours.organizationId, 'email');
    const webhook = await db
      .insert(integrationConfigs)
      .values({
        organizationId: ours.organizationId,
        integrationType: 'webhook',
        name: 'hook',
        config: { url: 'https://hooks.example.test/T0/secret-token', eventTypes: ['ticket.created'] },
      })
      .returning({ id: integrationConfigs.id })
      .then((rows) => rows[0]!.id);
    return { ours, theirs, linear, slack, email, webhook };
  }

  it('answers every declared type from one statement per batch, only for the batch’s organisations', async () => {
    const { ours, linear, slack, email } = await installations();
    const counting = countingDatabase();
    const { activeIntegrations: read, installedIntegrations } = relayIntegrations(
      counting.db,
      [ours.organizationId, ours.organizationId],
      ['linear', 'slack'],
    );
    // Asked at once, as the relay's subscribers plan in parallel.
    const [linears, slacks, linearsAgain] = await Promise.all([read('linear'), read('slack'), read('linear')]);
    assert.deepEqual(
      linears.map((i) => [i.id, i.organizationId]),
      [[linear, ours.organizationId]],
    );
    assert.deepEqual(linearsAgain, linears);
    assert.deepEqual(
      slacks.map((i) => i.id),
      [slack],
      'a switched-off installation is not active',
    );
    assert.deepEqual(
      (await installedIntegrations('slack')).map((i) => [i.isActive, i.id === slack]),
      [
        [false, false],
        [true, true],
      ],
      'but it is installed',
    );
    assert.equal(counting.sent.length, 1, 'one statement for both types');

    // A type nobody declared is read on its own.
    assert.deepEqual(
      (await read('email')).map((i) => i.id),
      [email],
    );
    assert.equal(counting.sent.length, 2);
  });

  it('takes the declared types from the batch’s own read, which carries them for its organisations only', async () => {
    const { ours, linear, slack } = await installations();
    const { db } = testDatabase();
    // As the relay reads a batch: a relation of the events' organisations.
    const organizations = [ours.organizationId, ours.organizationId];
    const result = await db.execute<{ installations: unknown }>(sql`
      with batch as (select * from unnest(${sql.param(organizations)}::text[]) as b(organization_id))
      select ${installationsOfBatch(sql`batch`, ['linear', 'slack', 'slack'])} as installations`);
    const rows = installedRows(result.rows[0]!.installations);
    assert.deepEqual(
      rows.map((r) => [r.integrationType, r.organizationId === ours.organizationId, r.isActive]).sort(),
      [
        ['linear', true, true],
        ['slack', true, false],
        ['slack', true, true],
      ],
    );
    assert.ok(rows.every((r) => r.createdAt instanceof Date && !Number.isNaN(r.createdAt.getTime())));

    const counting = countingDatabase();
    const { activeIntegrations } = relayIntegrations(counting.db, [ours.organizationId], ['linear', 'slack'], rows);
    assert.deepEqual(
      (await activeIntegrations('slack')).map((i) => i.id),
      [slack],
    );
    assert.deepEqual(
      (await activeIntegrations('linear')).map((i) => i.id),
      [linear],
    );
    assert.equal(counting.sent.length, 0, 'no statement of its own');
  });

  it('never carries a webhook endpoint’s URL, which can hold a secret, by either path', async () => {
    const { ours, webhook } = await installations();
    const { db } = testDatabase();
    const result = await db.execute<{ installations: unknown }>(sql`
      with batch as (select ${ours.organizationId}::text as organization_id)
      select ${installationsOfBatch(sql`batch`, ['webhook'])} as installations`);
    const batchRead = installedRows(result.rows[0]!.installations);
    const ownRead = await relayIntegrations(db, [ours.organizationId]).installedIntegrations('webhook');
    for (const rows of [batchRead, ownRead]) {
      assert.deepEqual(
        rows.map((r) => r.id),
        [webhook],
      );
      assert.deepEqual(rows[0]!.config, { eventTypes: ['ticket.created'] });
    }
  });
});
