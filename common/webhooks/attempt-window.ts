// How the time an attempt was opened (created_at, its claim) bounds the time its request went out (started_at).
// The attempts' endpoint index is on created_at (packages/database/src/schema.ts: the outcome write changes started_at,
// and an index on it cost every outcome write new entries in every index), so a question about started_at is asked
// through a created_at range this much wider, then answered on started_at exactly.
import { sql } from 'drizzle-orm';

/**
 * Longer than any attempt waits between its claim and its request: a request goes out within its batch, and a batch
 * never outlives its activity's start-to-close timeout (2 minutes, DEFAULT_BATCH_TIMEOUT_MS in
 * workflows/webhook-endpoint.ts, also the dispatcher's group timeout; workflows/webhook-endpoint.test.ts holds it
 * below a quarter of this). The rest covers clocks: started_at is the worker's time and created_at the database's.
 * What it does not cover: a worker whose clock runs more than about 8 minutes ahead of the database's, or one paused
 * that long between a claim and its request; such an attempt drops out of health's 24 hours and of the "failing for
 * 5 days" check, as it would if it were lost.
 */
export const ATTEMPT_START_LAG_MS = 10 * 60_000;

/** ATTEMPT_START_LAG_MS as an SQL interval, for the readers' created_at bound. */
export const attemptStartLag = sql`${ATTEMPT_START_LAG_MS} * interval '1 millisecond'`;
