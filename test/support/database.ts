// The test database: created fresh once per run, migrated with the committed migrations,
// and emptied between test files with truncateAll().

import { connectDatabase, type DatabaseHandle, runMigrations } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import pg from 'pg';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchboard_test';

let handle: DatabaseHandle | undefined;

/** Drops and recreates the test database, then migrates it. Called once by the root hooks. */
export async function createFreshTestDatabase(): Promise<void> {
  const url = new URL(TEST_DATABASE_URL);
  const name = url.pathname.slice(1);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`drop database if exists "${name}" with (force)`);
    await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
  const h = connectDatabase(TEST_DATABASE_URL, 2);
  try {
    await runMigrations(h.db);
  } finally {
    await h.close();
  }
}

/** A shared pool for tests. */
export function testDatabase(): DatabaseHandle {
  handle ??= connectDatabase(TEST_DATABASE_URL, 10);
  return handle;
}

/** Empties every table (keeps the schema and drizzle's migration journal). */
export async function truncateAll(): Promise<void> {
  const { db } = testDatabase();
  const result = await db.execute<{ tablename: string }>(
    sql`select tablename from pg_tables where schemaname = 'public'`,
  );
  const tables = result.rows.map((r) => `"${r.tablename}"`).join(', ');
  if (tables) await db.execute(sql.raw(`truncate ${tables} restart identity cascade`));
}

export async function closeTestDatabase(): Promise<void> {
  await handle?.close();
  handle = undefined;
}
