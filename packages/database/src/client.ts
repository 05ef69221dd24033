import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as authSchema from './auth-schema.ts';
import * as domainSchema from './schema.ts';

export const schema = { ...authSchema, ...domainSchema };
/** `$client` is the pool, for the few statements that need what drizzle does not offer (named prepared statements). */
export type Database = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/** A transaction handle has the same query API as the database. */
export type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];
export type Executor = Database | Tx;

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/switchboard';

export type DatabaseHandle = { db: Database; pool: pg.Pool; close(): Promise<void> };

export function connectDatabase(url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL, max = 10): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max });
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}
