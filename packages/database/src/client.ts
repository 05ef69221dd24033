import { createHash } from 'node:crypto';
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

export function connectDatabase(
  url = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL,
  max = 10,
  /**
   * Closes a connection (once it is idle) this many seconds after it opened; 0 keeps it. A connection's named
   * statements keep their plans for its life, so this bounds how long a plan made for a smaller table is used.
   */
  maxLifetimeSeconds = 0,
): DatabaseHandle {
  const pool = new pg.Pool({ connectionString: url, max, maxLifetimeSeconds });
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}

/** Distinct statement texts a named-statements view prepares; further ones run unnamed. */
export const NAMED_STATEMENTS_LIMIT = 256;

/**
 * The same pool, seen through a database whose standalone statements are named prepared statements: each connection
 * parses and plans one once and then reuses the plan, instead of doing both on every execution. For a caller that
 * runs the same few statements many times a second (the outbox relay: per batch, about ten statements whose parsing
 * and planning cost PostgreSQL more than running them; specification/performance.md). Statements in a transaction
 * run unnamed, as through `connectDatabase`'s database.
 *
 * A plan kept this way is the plan for the table sizes of when it was made: give the pool a `maxLifetimeSeconds` so
 * that it is made again. A statement whose result columns changed under its plan (a migration while it runs) fails
 * with 0A000 once; it is then run again unnamed, and stays unnamed.
 */
export function namedStatementsDatabase(pool: pg.Pool, limit = NAMED_STATEMENTS_LIMIT): Database {
  const names = new Map<string, string | null>();
  const nameOf = (text: string): string | null => {
    const known = names.get(text);
    if (known !== undefined) return known;
    // A list of placeholders (drizzle's inArray) makes a new text for every length: naming those would fill the
    // vocabulary with statements used once.
    if (names.size >= limit || /\bin \(\$\d+, \$\d+/i.test(text)) return null;
    const name = `sb_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;
    names.set(text, name);
    return name;
  };
  const query = (...args: unknown[]) => {
    const call = pool.query.bind(pool) as (...args: unknown[]) => Promise<pg.QueryResult>;
    const [config, values] = args;
    // Only the promise form with a plain config object: a callback or a Submittable (a cursor) goes as it came.
    if (typeof config !== 'object' || config === null || args.length > 2 || typeof values === 'function')
      return call(...args);
    const { text, name, submit } = config as { text?: unknown; name?: unknown; submit?: unknown };
    const given = typeof text === 'string' && !name && typeof submit !== 'function' ? nameOf(text) : null;
    if (given === null) return call(...args);
    return call({ ...config, name: given }, values).catch((err: { code?: string; routine?: string }) => {
      // "cached plan must not change result type" (raised before the statement runs, so running it unnamed is safe).
      if (err?.code !== '0A000' || err.routine !== 'RevalidateCachedQuery') throw err;
      names.set(text as string, null);
      return call(config, values);
    });
  };
  const view = new Proxy(pool, {
    get(target, property) {
      if (property === 'query') return query;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return drizzle(view, { schema });
}
