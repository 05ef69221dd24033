// An endpoint's health: its status and 24-hour success rate derived from its delivery attempts (the record of what
// actually happened); the last success and the wording of the last error from the summary the delivery activity
// keeps on the endpoint row (recordIntegrationOutcome), which costs nothing to read however long it has been failing.
// Attempts still marked `sending` (on the wire, or whose outcome was lost with a worker) say nothing about health.
import type { Executor } from '@switchboard/database';
import { sql } from 'drizzle-orm';
import { attemptStartLag } from '../../common/webhooks/attempt-window.ts';
import type { EndpointHealth, EndpointRow } from './endpoint-record.ts';

type AttemptSummary = {
  endpoint_id: string;
  attempts_24h: number;
  succeeded_24h: number;
  last_attempt_at: Date | null;
  last_outcome: string | null;
  last_status_code: number | null;
  last_error_class: string | null;
};

/**
 * One query for any number of endpoints; both parts read the (endpoint_id, created_at) index. The latest attempt is
 * the one with an outcome from the claim made last, and of that claim's (opened together) the one sent last; the
 * day's attempts are those whose request went out in the last 24 hours, found among those opened since a little
 * earlier (ATTEMPT_START_LAG_MS).
 */
export async function endpointHealth(db: Executor, rows: readonly EndpointRow[]): Promise<Map<string, EndpointHealth>> {
  const health = new Map<string, EndpointHealth>();
  if (rows.length === 0) return health;
  const ids = sql.join(
    rows.map((r) => sql`${r.id}::uuid`),
    sql`, `,
  );
  const result = await db.execute<AttemptSummary>(sql`
    select e.id as endpoint_id,
      coalesce(day.attempts, 0)::int as attempts_24h,
      coalesce(day.succeeded, 0)::int as succeeded_24h,
      latest.started_at as last_attempt_at,
      latest.outcome as last_outcome,
      latest.status_code as last_status_code,
      latest.error_class as last_error_class
    from unnest(array[${ids}]) as e(id)
    left join lateral (
      select started_at, outcome, status_code, error_class from webhook_attempts
      where endpoint_id = e.id and outcome <> 'sending' order by created_at desc, started_at desc limit 1
    ) latest on true
    left join lateral (
      select count(*) as attempts, count(*) filter (where outcome = 'succeeded') as succeeded from webhook_attempts
      where endpoint_id = e.id and created_at > now() - interval '24 hours' - ${attemptStartLag}
        and started_at > now() - interval '24 hours' and outcome <> 'sending'
    ) day on true`);
  const byId = new Map(result.rows.map((r) => [r.endpoint_id, r]));
  for (const row of rows) health.set(row.id, summarise(row, byId.get(row.id)));
  return health;
}

function summarise(row: EndpointRow, s: AttemptSummary | undefined): EndpointHealth {
  const lastAttemptAt = s?.last_attempt_at ? new Date(s.last_attempt_at) : null;
  const lastFailed = !!s?.last_outcome && s.last_outcome !== 'succeeded';
  const status =
    !row.isActive || row.disabledReason ? 'disabled' : !lastAttemptAt ? 'unknown' : lastFailed ? 'failing' : 'healthy';
  return {
    status,
    successRate24h: s && s.attempts_24h > 0 ? s.succeeded_24h / s.attempts_24h : null,
    lastAttemptAt: lastAttemptAt?.toISOString() ?? null,
    lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
    lastError: lastFailed ? (row.lastError ?? describeFailure(s!)) : null,
  };
}

function describeFailure(s: AttemptSummary): string {
  if (s.last_error_class)
    return s.last_status_code ? `HTTP ${s.last_status_code} (${s.last_error_class})` : s.last_error_class;
  return s.last_status_code ? `HTTP ${s.last_status_code}` : 'failed';
}
