// The named-statements view of a pool (the outbox relay's): a statement is parsed and planned once per connection,
// within a bounded vocabulary, never inside a transaction, and a plan whose result columns changed under it does not
// fail the caller.
import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { TEST_DATABASE_URL } from '../../../test/support/database.ts';
import { namedStatementsDatabase } from './client.ts';

describe('namedStatementsDatabase', () => {
  // One connection, so that pg_prepared_statements (per session) shows what the view prepared on it.
  let pool: pg.Pool;
  beforeEach(() => {
    pool = new pg.Pool({ connectionString: TEST_DATABASE_URL, max: 1 });
  });
  afterEach(() => pool.end());

  const prepared = async () =>
    (await pool.query<{ name: string; statement: string }>('select name, statement from pg_prepared_statements')).rows;

  it('prepares a statement once on a connection and reuses it', async () => {
    const db = namedStatementsDatabase(pool);
    for (const n of [1, 2, 3]) {
      const result = await db.execute<{ n: number }>(sql`select ${n}::int + 1 as n`);
      assert.equal(result.rows[0]!.n, n + 1);
    }
    const statements = await prepared();
    assert.equal(statements.length, 1);
    assert.match(statements[0]!.name, /^sb_/);
    assert.match(statements[0]!.statement, /select \$1::int \+ 1 as n/);
  });

  it('keeps a name the caller gave, and runs a transaction’s statements unnamed', async () => {
    const db = namedStatementsDatabase(pool);
    await db.$client.query({ name: 'own-name', text: 'select 1 as one', values: [] });
    await db.transaction(async (tx) => {
      await tx.execute(sql`select 2 as two`);
    });
    assert.deepEqual(
      (await prepared()).map((s) => s.name),
      ['own-name'],
    );
  });

  it('prepares at most its limit of distinct statements; the rest run unnamed, with the same answers', async () => {
    const db = namedStatementsDatabase(pool, 2);
    for (const column of ['a', 'b', 'c', 'a']) {
      const result = await db.execute<Record<string, number>>(sql.raw(`select 7 as ${column}`));
      assert.equal(result.rows[0]![column], 7);
    }
    assert.equal((await prepared()).length, 2);
  });

  it('leaves a statement with a list of placeholders unnamed: its text changes with the list’s length', async () => {
    const db = namedStatementsDatabase(pool);
    for (const values of [
      [1, 2],
      [1, 2, 3],
    ]) {
      const result = await db.execute<{ n: number }>(
        sql`select count(*)::int as n from generate_series(1, 5) g where g in (${sql.join(
          values.map((v) => sql`${v}`),
          sql`, `,
        )})`,
      );
      assert.equal(result.rows[0]!.n, values.length);
    }
    assert.deepEqual(await prepared(), []);
  });

  it('runs a statement again unnamed when a migration changed its result columns under its plan', async () => {
    const db = namedStatementsDatabase(pool);
    // A real table: the failed statement costs the pool its connection (pg-pool drops a connection after an error).
    await pool.query('drop table if exists named_view_probe');
    await pool.query('create table named_view_probe (a int)');
    try {
      await pool.query('insert into named_view_probe values (1)');
      const read = () => db.execute<Record<string, number>>(sql`select * from named_view_probe where a = ${1}`);
      assert.deepEqual((await read()).rows, [{ a: 1 }]);
      await pool.query('alter table named_view_probe add column b int default 2');
      assert.deepEqual((await read()).rows, [{ a: 1, b: 2 }]);
      // From then on unnamed: the text is not prepared again on the new connection.
      assert.deepEqual((await read()).rows, [{ a: 1, b: 2 }]);
      assert.deepEqual(await prepared(), []);
    } finally {
      await pool.query('drop table named_view_probe');
    }
  });
});
