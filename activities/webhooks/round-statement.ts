// The round statement: the one round trip in which a batch's lane records the outcomes of the requests it just sent
// and claims its next deliveries (deliver-batch.ts). It serves several lanes, of different endpoints, at once: a
// worker running many endpoints' batches (the dispatcher's groups) hands their rounds to one `coalescedRounds`, which
// runs a few statements at a time and gives every lane that asks meanwhile a place in the next one. With 100
// endpoints the rounds were 766 statements for 12,000 deliveries, each with about 1 ms of PostgreSQL CPU of its own
// (planning, executor start, commit) beside its rows' work (specification/performance.md, "One statement for many
// endpoints' rounds").
import type { Database } from '@switchboard/database';
import type { Logger } from '../../common/logger.ts';

/** A delivery claimed by a round: what its request is built from. */
export type Claimed = { id: string; message_id: string; attempt_count: number; next_attempt_at: string; body: string };

/** One row of a round's outcome write: a sent delivery's outcome, or a claimed one given back unsent. */
export type OutcomeRow = {
  id: string;
  attempt: number;
  sent: boolean;
  status: 'pending' | 'succeeded' | 'failed' | null;
  next_attempt_at: string | null;
  last_attempt_at: string | null;
  succeeded_at: string | null;
  started_at: string | null;
  duration_ms: number | null;
  status_code: number | null;
  excerpt: string | null;
  error_class: string | null;
  outcome: string | null;
};

/** What one lane asks of a round: its outcomes, its next claim (null: none), and whether to switch its endpoint off. */
export type RoundRequest = {
  endpoint: { id: string; organizationId: string };
  rows: OutcomeRow[];
  claim: { size: number; leaseMs: number } | null;
  /** Switches the endpoint off (a receiver answered 410), recording `endpoint.disabled` once. */
  disableReason?: string;
};

/** Runs a lane's round: its claimed deliveries, oldest due first. */
export type RoundRunner = (request: RoundRequest) => Promise<Claimed[]>;

/**
 * The round's outcome columns after the id, in the order of their parameters ($7 onwards) and with their types: the
 * statement's unnest and roundParameters both read this list, so the two cannot disagree.
 */
const OUTCOME_COLUMNS = [
  ['attempt', 'int'],
  ['sent', 'boolean'],
  ['status', 'text'],
  ['next_attempt_at', 'timestamptz'],
  ['last_attempt_at', 'timestamptz'],
  ['succeeded_at', 'timestamptz'],
  ['started_at', 'timestamptz'],
  ['duration_ms', 'int'],
  ['status_code', 'int'],
  ['excerpt', 'text'],
  ['error_class', 'text'],
  ['outcome', 'text'],
] as const satisfies ReadonlyArray<readonly [keyof OutcomeRow, string]>;

/**
 * One round trip for the rounds of several endpoints (at most one request per endpoint): records the outcomes of the
 * rounds just sent (each fenced by its attempt number), gives back the claimed deliveries they did not send, switches
 * off the endpoints whose receiver answered 410 (with their `endpoint.disabled` event, so nobody reads the 410
 * attempt on an endpoint still shown active), then claims, for each endpoint, up to its `size` due deliveries for its
 * `lease_ms` and opens a `sending` attempt for each. A claim skips the rows this statement writes (they may look due
 * in its snapshot when their lease ran out during the round, and one statement must not update a row twice) and
 * claims nothing for an endpoint switched off meanwhile. Each endpoint's claim is scoped to its organisation.
 *
 * Planned on every execution (an unnamed statement), for about 0.5 ms. It was a named prepared statement, planned
 * once per connection: the plan cached while webhook_attempts was small read the whole table for each round as it
 * grew, until the next ANALYZE replaced it (two sequential scans per round, 10–30 ms each once it held 15,000 rows,
 * in every logged round of a 36,000-delivery benchmark); planned afresh, the round looks its attempts up by index.
 *
 * The rows and the endpoints come in as parallel arrays, unnested (roundParameters), not as jsonb documents: the
 * planner sees the arrays' values and so their exact row counts, where jsonb_to_recordset is always guessed at 100
 * rows. With that guess, a round of 15 rows read webhook_deliveries and webhook_attempts whole (hash joins over
 * sequential scans, 2–4 ms a round at 12,000 deliveries, growing with the tables); with the real count the planner
 * weighs the round's real size against the tables': a window of a few rows is looked up by index (round-plan.test.ts,
 * 10 rows in 5,000). A round of a few hundred in tables of a few thousand was still read whole into a hash (24,200
 * deliveries for 33 ms of a 37 ms statement): each write now also names the round's delivery ids as an array ($1),
 * so only the round's rows are kept, or looked up by index (round-plan.test.ts, 256 rows in 3,000). The arrays also
 * carry text as text: a jsonb document refused a lone surrogate.
 */
export const ROUND_STATEMENT = `
  with v as (
    select * from unnest($1::uuid[], ${OUTCOME_COLUMNS.map(([, type], i) => `$${i + 7}::${type}[]`).join(', ')})
      as v(id, ${OUTCOME_COLUMNS.map(([column]) => column).join(', ')})),
  e as (
    select * from unnest($2::uuid[], $3::text[], $4::int[], $5::int[], $6::text[])
      as e(endpoint_id, organization_id, size, lease_ms, disable_reason)),
  -- The round's attempts are looked up from the round's rows, one index probe each (the lateral's OFFSET 0 keeps
  -- it so); the write then joins them by id.
  -- Looked up from the table instead, an ANALYZE taken while no attempt was on the wire makes 'sending' look like
  -- one row: the plan then read every attempt and, for each one on the wire, the round's rows (1,200 × 3,942
  -- comparisons: 2.9 s for one statement in the webhooks benchmark). The fence on 'sending' is not re-checked on
  -- the row written, and need not be: only the batch that opened attempt n of a delivery writes that row, an
  -- attempt number is used again only after this statement deleted its row, and a superseded batch's attempt n is
  -- never a newer claim's (n + 1).
  attempt as (
    select v.*, s.attempt_id from v cross join lateral (
      select a.id as attempt_id from webhook_attempts a
      where a.delivery_id = v.id and a.attempt_number = v.attempt and a.outcome = 'sending'
      offset 0) s),
  -- Each write also names the round's delivery ids as an array ($1: the same rows as v). Joined to v alone, a write of
  -- a few hundred rows was planned as a hash of its whole table while the table was small enough (24,200 deliveries
  -- hashed for 33 ms of a 37 ms statement); with the array, only the round's rows are kept, or looked up by index.
  recorded as (
    update webhook_attempts a set started_at = t.started_at, duration_ms = t.duration_ms,
      status_code = t.status_code, response_excerpt = t.excerpt, error_class = t.error_class, outcome = t.outcome
    from attempt t
    where t.sent and a.id = t.attempt_id and a.delivery_id = any($1::uuid[])),
  withdrawn as (
    delete from webhook_attempts a using attempt t
    where not t.sent and a.id = t.attempt_id and a.delivery_id = any($1::uuid[])),
  settled as (
    update webhook_deliveries d set
      status = case when v.sent then v.status::webhook_delivery_status else d.status end,
      attempt_count = case when v.sent then d.attempt_count else d.attempt_count - 1 end,
      next_attempt_at = case when v.sent then v.next_attempt_at else d.next_attempt_at end,
      last_attempt_at = case when v.sent then v.last_attempt_at else d.last_attempt_at end,
      succeeded_at = case when v.sent then v.succeeded_at else d.succeeded_at end,
      lease_until = null, updated_at = now()
    from v
    where d.id = v.id and d.attempt_count = v.attempt and d.id = any($1::uuid[])),
  -- Only the statement that flips is_active records endpoint.disabled, so concurrent batches record one.
  switched_off as (
    update integration_configs c set is_active = false, disabled_reason = e.disable_reason, updated_at = now()
    from e
    where e.disable_reason is not null and c.id = e.endpoint_id and c.organization_id = e.organization_id
      and c.is_active
    returning c.id, c.organization_id, e.disable_reason),
  switch_off_recorded as (
    insert into integration_events (organization_id, integration_config_id, type, payload)
    select organization_id, id, 'endpoint.disabled', jsonb_build_object('reason', disable_reason)
    from switched_off),
  due as (
    select d.id, e.lease_ms from e cross join lateral (
      select d.id from webhook_deliveries d
      where d.endpoint_id = e.endpoint_id and d.organization_id = e.organization_id and d.status = 'pending'
        and d.next_attempt_at <= now() and (d.lease_until is null or d.lease_until < now())
        -- NOT IN, a hashed subplan: NOT EXISTS was planned as a nested loop over the round's rows (128 × 128
        -- comparisons took half the statement's time); ids are never null, so the two mean the same here.
        and d.id not in (select v.id from v)
        and exists (select 1 from integration_configs c where c.id = e.endpoint_id and c.is_active)
      order by d.next_attempt_at
      limit e.size
      for update skip locked) d
    where e.size > 0),
  claimed as (
    update webhook_deliveries d set lease_until = now() + due.lease_ms * interval '1 millisecond',
      attempt_count = d.attempt_count + 1
    from due where d.id = due.id
    returning d.id, d.endpoint_id, d.organization_id, d.message_id, d.attempt_count, d.next_attempt_at),
  opened as (
    insert into webhook_attempts (organization_id, delivery_id, endpoint_id, attempt_number, started_at, outcome)
    select c.organization_id, c.id, c.endpoint_id, c.attempt_count, now(), 'sending' from claimed c)
  select c.id, c.endpoint_id, c.message_id, c.attempt_count, c.next_attempt_at, m.payload::text as body
  from claimed c join webhook_messages m on m.id = c.message_id`;

/**
 * The round statement's parameters: one array per endpoint column and one per outcome column, unnested together in
 * the statement, so each execution's plan has the exact number of endpoints and rows (see ROUND_STATEMENT).
 */
export function roundParameters(requests: readonly RoundRequest[]): unknown[] {
  const rows = requests.flatMap((r) => r.rows);
  return [
    rows.map((r) => r.id),
    requests.map((r) => r.endpoint.id),
    requests.map((r) => r.endpoint.organizationId),
    requests.map((r) => r.claim?.size ?? 0),
    requests.map((r) => Math.ceil(r.claim?.leaseMs ?? 0)),
    requests.map((r) => r.disableReason ?? null),
    ...OUTCOME_COLUMNS.map(([column]) => rows.map((r) => r[column])),
  ];
}

/** Runs one round statement for these requests (one per endpoint): each request's claimed deliveries, oldest first. */
export async function runRoundStatement(db: Database, requests: readonly RoundRequest[]): Promise<Claimed[][]> {
  const endpoints = new Set(requests.map((r) => r.endpoint.id.toLowerCase()));
  // Two claims of one endpoint in one statement would claim the same rows (a statement does not skip its own locks).
  if (endpoints.size !== requests.length) throw new Error('a round statement serves one request per endpoint');
  if (requests.every((r) => r.rows.length === 0 && !r.claim && r.disableReason === undefined))
    return requests.map(() => []);
  const result = await db.$client.query<Claimed & { endpoint_id: string }>({
    text: ROUND_STATEMENT,
    values: roundParameters(requests),
  });
  const byEndpoint = new Map<string, Claimed[]>(requests.map((r) => [r.endpoint.id.toLowerCase(), []]));
  for (const { endpoint_id, ...claimed } of result.rows) {
    const own = byEndpoint.get(endpoint_id);
    // Cannot happen (a claim is made per request's endpoint); said loudly rather than leaving a claim unsent unseen.
    if (!own) throw new Error(`a round statement claimed for endpoint ${endpoint_id}, which no request named`);
    own.push(claimed);
  }
  // Oldest due first, as claimed.
  return requests.map((r) =>
    byEndpoint
      .get(r.endpoint.id.toLowerCase())!
      .sort((a, b) => new Date(a.next_attempt_at).getTime() - new Date(b.next_attempt_at).getTime()),
  );
}

/**
 * Whether a failed statement is known to have changed nothing: PostgreSQL reported it as an ERROR (with a SQLSTATE)
 * not about the connection (class 08), after which the outcome is unknown.
 */
function rolledBack(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  // ERROR only: a FATAL ends the session at a point the client cannot see, and a PANIC after the commit record
  // reports a statement that did commit. (A server that words its severities in another language falls on the
  // safe side: its lanes fail.)
  return severity === 'ERROR' && typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !code.startsWith('08');
}

/** Each round in a statement of its own: for a batch run on its own (tests, tools). */
export function directRounds(db: Database): RoundRunner {
  return async (request) => (await runRoundStatement(db, [request]))[0]!;
}

export type CoalescedRoundsOptions = {
  /** Round statements of this process at once; a lane that asks while they run waits for the next, shared one. */
  inFlight: number;
  /** A shared statement takes requests up to this many rows (outcomes and claims), or one request whatever its size. */
  maxRows: number;
  logger?: Pick<Logger, 'warn'>;
};

type Waiting = { request: RoundRequest; resolve: (claimed: Claimed[]) => void; reject: (error: unknown) => void };

/**
 * Rounds of many lanes in few statements. While fewer than `inFlight` statements run, a round starts at once, alone
 * (no lane waits for company); once they all run, the rounds asked meanwhile wait and go together in the next
 * statement, oldest first, one per endpoint (a second round of an endpoint waits for a later statement), up to
 * `maxRows`. A shared statement that PostgreSQL refused (it changed nothing) is run again one request at a time, in
 * its turn, so one endpoint's failure (a row the statement cannot take, a deadlock with a superseded attempt) stays
 * its own; one whose answer was lost fails all its requests (see run).
 */
export function coalescedRounds(db: Database, options: CoalescedRoundsOptions): RoundRunner {
  const waiting: Waiting[] = [];
  let running = 0;
  const weight = (r: RoundRequest) => r.rows.length + (r.claim?.size ?? 0);

  const run = async (taken: Waiting[]) => {
    try {
      const claimed = await runRoundStatement(
        db,
        taken.map((w) => w.request),
      );
      for (const [i, w] of taken.entries()) w.resolve(claimed[i]!);
    } catch (error) {
      // Only an error the server reported proves the statement changed nothing. One that never came back (the
      // connection lost) may have committed: running its rounds again could write an outcome over a newer attempt's
      // claim, so each of its lanes fails instead, and their leases run out as a dead worker's would.
      if (taken.length === 1 || !rolledBack(error)) {
        for (const w of taken) w.reject(error);
        return;
      }
      try {
        options.logger?.warn(
          { err: error, rounds: taken.length },
          'a shared webhook round statement failed; running its rounds one by one',
        );
      } catch {}
      // One after another, in this statement's turn: never more than `inFlight` round statements at once.
      for (const w of taken) {
        try {
          w.resolve((await runRoundStatement(db, [w.request]))[0]!);
        } catch (e) {
          w.reject(e);
        }
      }
    }
  };

  const pump = () => {
    while (running < options.inFlight && waiting.length > 0) {
      const taken: Waiting[] = [];
      const endpoints = new Set<string>();
      let rows = 0;
      for (let i = 0; i < waiting.length; ) {
        const next = waiting[i]!;
        const fits = taken.length === 0 || rows + weight(next.request) <= options.maxRows;
        if (!fits) break;
        const endpoint = next.request.endpoint.id.toLowerCase();
        if (endpoints.has(endpoint)) {
          i++;
          continue;
        }
        waiting.splice(i, 1);
        taken.push(next);
        endpoints.add(endpoint);
        rows += weight(next.request);
      }
      running++;
      run(taken)
        // run settles every request it took; whatever else goes wrong fails them rather than leaving them waiting.
        .catch((error: unknown) => {
          for (const w of taken) w.reject(error);
        })
        .finally(() => {
          running--;
          pump();
        });
    }
  };

  return (request) =>
    new Promise<Claimed[]>((resolve, reject) => {
      waiting.push({ request, resolve, reject });
      pump();
    });
}
