// Whether the outbox relay is alive and keeping up, read from the database alone, so the API can tell without
// reaching into a worker: a live relay holds a member advisory lock for as long as its session lives
// (outbox/relay.ts), and its lag is the age of the oldest event it has not handed on yet.
import type { Database } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { RELAY_MEMBER_LOCK } from './relay.ts';

export type RelayStatus = {
  /** Relays holding a member slot in this database right now. */
  members: number;
  /** Seconds since the oldest undispatched event was written; null when every event is dispatched. */
  lagSeconds: number | null;
};

export async function readRelayStatus(db: Database): Promise<RelayStatus> {
  const rows = await db.execute<{ members: number; lag_seconds: number | null }>(sql`
    select
      (select count(*)::int from pg_locks
        where locktype = 'advisory' and granted and classid = ${RELAY_MEMBER_LOCK}::int and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())) as members,
      (select extract(epoch from now() - created_at)::float8 from ticket_events
        where dispatched_at is null order by id limit 1) as lag_seconds`);
  const row = rows.rows[0];
  return { members: row?.members ?? 0, lagSeconds: row?.lag_seconds ?? null };
}
