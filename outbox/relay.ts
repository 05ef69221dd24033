// The outbox relay: moves committed ticket_events rows to the integrations that want them, oldest first, and marks
// them dispatched once every subscriber has them. Never drops an event and never marks one it did not deliver; a
// ticket whose send fails waits (its later events too) while other tickets go on.
//
// Per batch, not per event (see RelaySubscriber in common/integration-contract.ts): queue-like subscribers write the whole batch with set-based
// SQL and need at most one wake per target workflow; workflow subscribers get one signal per target with all of a
// ticket's wanted events; an event nobody wants costs Temporal nothing. So the relay moves events at the speed of
// a few statements per batch, and Temporal's load follows the work to do, not the number of events.
//
// Why order holds: one ticket's ids grow in commit order (they are allocated under the ticket row lock); a ticket
// belongs to one partition, a partition to one relay at a time, and a relay handles a ticket's events in id order
// and reads no later event of it while an earlier one waits. Targets drop what they already have (event ids, or
// idempotent re-reads), so a redelivery after a crash or a lost answer is harmless, and nothing is skipped.
//
// Scaling out: tickets are hashed into `partitions`; each partition is a session advisory lock. Relays announce
// themselves with a member lock, count the live members in pg_locks, and each takes the partitions whose number
// modulo the member count is its rank. When one dies its session ends, its locks go, and the others take its
// partitions at their next look (within a poll interval).
import { namedStatementsDatabase, OUTBOX_CHANNEL } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { sql } from 'drizzle-orm';
import type pg from 'pg';
import type { RelayContext, RelaySend, RelaySubscriber } from '../common/integration-contract.ts';
import type { Logger } from '../common/logger.ts';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';
import {
  type InstalledRow,
  installationsOfBatch,
  installedRows,
  relayIntegrations,
} from '../domain/integrations/read-integrations.ts';
import { taskQueues } from '../temporal-config/index.ts';

/** First key of the two-key advisory locks: one lock per partition (second key = partition number). */
export const RELAY_PARTITION_LOCK = 0x5357_4f50; // "SWOP"
/** First key of the member locks: a relay holds one slot while it runs, so the others can count it. */
export const RELAY_MEMBER_LOCK = 0x5357_4f4d; // "SWOM"
/** Partitions of the ticket space; every relay of a deployment must use the same number. */
export const DEFAULT_PARTITIONS = 32;
const MAX_MEMBERS = 256;

export type OutboxRelayOptions = {
  /**
   * The pool the relay takes its session from (held for the relay's life: it holds the LISTEN and the locks), and
   * runs its batches' statements on. They are named prepared statements (namedStatementsDatabase): a batch is about
   * ten statements whose parsing and planning cost PostgreSQL more than running them, so each connection does both
   * once. Give the pool a `maxLifetimeSeconds` so that the plans are made again as the tables grow.
   */
  pool: pg.Pool;
  temporal: Client;
  /** Who hears of ticket events: built from the integration modules (outbox/relay-subscribers.ts). */
  subscribers: readonly RelaySubscriber[];
  /** The task queue of the ticket-level workflows (SLA watch, Linear links); tests pass their own. */
  taskQueue?: string;
  /** Rows read per look at the outbox. */
  batchSize?: number;
  /** Sends (wakes, signals) in flight at once within a batch. */
  concurrency?: number;
  partitions?: number;
  /** Poll even without a NOTIFY: after a missed notification, and to rebalance partitions among relays. */
  pollIntervalMs?: number;
  dispatchTimeoutMs?: number;
  /** Backoff after failures (per ticket; for everyone when nothing gets through), doubling up to the maximum. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
};

export type RelayMetrics = {
  /** Events every subscriber has and the relay marked dispatched, since start. */
  dispatched: number;
  /** Events whose dispatch attempt failed (each is retried later), since start. */
  failed: number;
  /** Age of the oldest waiting event the relay saw at its last look (0 when the outbox was empty). */
  oldestPendingAgeMs: number;
  /** Commit-to-dispatched delay of the most recently dispatched event. */
  lastLagMs: number;
  /** True while the relay owns at least one partition. */
  isLeader: boolean;
  /** Partitions this relay owns now. */
  partitions: number;
  /** Live relays it counted at its last look (itself included). */
  members: number;
  /** The member lock it holds (its second key), -1 while it holds none. */
  memberSlot: number;
  /** Times the session holding the locks (and the LISTEN) broke, since start; the relay then takes them again. */
  sessionsLost: number;
  /** Batches handled, and Temporal calls (wakes, signals, starts) made for them, since start. */
  batches: number;
  sends: number;
  /** Dispatched events per subscriber kind that wanted them, since start (an event may count in several). */
  byKind: { queue: number; workflow: number; none: number };
};

/** One read of the outbox: the events, and the installations the subscribers declared for their organisations. */
type Batch = { events: DispatchedTicketEvent[]; installations: InstalledRow[] };

export type OutboxRelay = {
  start(): void;
  /** Lets the batch in flight finish, then releases the locks and the connection. */
  stop(): Promise<void>;
  metrics(): RelayMetrics;
};

/** A relay's counters before it has done anything. */
export function freshRelayMetrics(): RelayMetrics {
  return {
    dispatched: 0,
    failed: 0,
    oldestPendingAgeMs: 0,
    lastLagMs: 0,
    isLeader: false,
    partitions: 0,
    members: 0,
    memberSlot: -1,
    sessionsLost: 0,
    batches: 0,
    sends: 0,
    byKind: { queue: 0, workflow: 0, none: 0 },
  };
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const {
    pool,
    temporal,
    subscribers,
    taskQueue = taskQueues.tickets,
    batchSize = 500,
    concurrency = 64,
    partitions = DEFAULT_PARTITIONS,
    pollIntervalMs = 1_000,
    dispatchTimeoutMs = 5_000,
    retryInitialMs = 200,
    retryMaxMs = 10_000,
    logger,
  } = options;
  const db = namedStatementsDatabase(pool);
  const metrics = freshRelayMetrics();
  /** Tickets whose last dispatch failed: not retried before `retryAt`, so one bad ticket does not slow the rest. */
  const blockedTickets = new Map<string, { retryAt: number; delayMs: number }>();
  /** Batches in a row in which nothing got through: Temporal is most likely down, so everyone pauses. */
  let failuresInARow = 0;
  let pauseMs = 0;
  let session: pg.PoolClient | undefined;
  let memberSlot: number | undefined;
  const owned = new Set<number>();
  let lastRebalance = 0;
  let running: Promise<void> | undefined;
  let stopping = false;
  /** Read with every batch, for every subscriber that declares them (RelaySubscriber.integrationTypes). */
  const sharedIntegrationTypes = [...new Set(subscribers.flatMap((s) => s.integrationTypes ?? []))];
  const contextFor = (batch: Batch): RelayContext => ({
    db,
    temporal,
    ticketsTaskQueue: taskQueue,
    deadline: () => Date.now() + dispatchTimeoutMs,
    ...relayIntegrations(
      db,
      batch.events.map((e) => e.organizationId),
      sharedIntegrationTypes,
      batch.installations,
    ),
  });

  // Wake-ups: a NOTIFY (when the loop waits for one) and stop(). The flag remembers one that came while busy.
  let notified = false;
  let sleeping: { done: () => void; notify: boolean } | undefined;
  const onNotify = () => {
    notified = true;
    if (sleeping?.notify) sleeping.done();
  };
  const sleep = (ms: number, { notify }: { notify: boolean }) =>
    new Promise<void>((resolve) => {
      if (stopping || (notify && notified)) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        sleeping = undefined;
        resolve();
      }
      sleeping = { done, notify };
    });

  async function connect(): Promise<pg.PoolClient> {
    if (session) return session;
    const client = await pool.connect();
    client.on('notification', onNotify);
    client.on('error', (err) => {
      logger?.warn({ err }, 'outbox relay lost its database connection');
      dropSession(client, err);
    });
    try {
      await client.query(`listen ${OUTBOX_CHANNEL}`);
    } catch (err) {
      dropSession(client, err as Error);
      throw err;
    }
    session = client;
    return client;
  }

  // A broken connection can report through both the failed query and its 'error' event: release it once.
  const released = new WeakSet<pg.PoolClient>();
  function dropSession(client: pg.PoolClient, err?: Error) {
    if (session === client) {
      session = undefined;
      // The locks were the session's: they are gone with it.
      owned.clear();
      memberSlot = undefined;
      metrics.memberSlot = -1;
      metrics.isLeader = false;
      metrics.partitions = 0;
    }
    client.removeListener('notification', onNotify);
    // A broken connection may still report after it was handed back (a query in flight when it died): that report
    // has nobody left to tell, and must not become an uncaught 'error'.
    client.on('error', () => {});
    if (released.has(client)) return;
    released.add(client);
    if (err) metrics.sessionsLost++;
    client.release(err ?? true);
  }

  /** Takes a member slot, counts the live relays, and holds exactly the partitions of this relay's rank. */
  async function rebalance(client: pg.PoolClient): Promise<void> {
    if (memberSlot === undefined) {
      const taken = await client.query<{ slot: number | null }>(
        `select (select s from generate_series(0, $2::int - 1) s where pg_try_advisory_lock($1::int, s) limit 1) as slot`,
        [RELAY_MEMBER_LOCK, MAX_MEMBERS],
      );
      memberSlot = taken.rows[0]?.slot ?? undefined;
      if (memberSlot === undefined) throw new Error(`more than ${MAX_MEMBERS} relays share this database`);
      metrics.memberSlot = memberSlot;
    }
    const live = await client.query<{ slot: number }>(
      `select (objid::bigint)::int as slot from pg_locks
        where locktype = 'advisory' and granted and classid = $1::int and objsubid = 2
          and database = (select oid from pg_database where datname = current_database())
        order by objid`,
      [RELAY_MEMBER_LOCK],
    );
    const slots = live.rows.map((r) => r.slot);
    const members = Math.max(1, slots.length);
    const rank = Math.max(0, slots.indexOf(memberSlot));
    const wanted = new Set<number>();
    for (let p = 0; p < partitions; p++) if (p % members === rank) wanted.add(p);
    // Give back what another relay's rank now covers (no batch is in flight here), then take what is ours.
    for (const p of [...owned]) {
      if (wanted.has(p)) continue;
      await client.query('select pg_advisory_unlock($1::int, $2::int)', [RELAY_PARTITION_LOCK, p]);
      owned.delete(p);
    }
    const missing = [...wanted].filter((p) => !owned.has(p));
    if (missing.length > 0) {
      const got = await client.query<{ p: number }>(
        `select p from unnest($2::int[]) p where pg_try_advisory_lock($1::int, p)`,
        [RELAY_PARTITION_LOCK, missing],
      );
      for (const row of got.rows) owned.add(row.p);
    }
    const wasLeader = metrics.isLeader;
    metrics.members = members;
    metrics.partitions = owned.size;
    metrics.isLeader = owned.size > 0;
    if (metrics.isLeader && !wasLeader) logger?.info({ partitions: owned.size, members }, 'outbox relay is active');
    lastRebalance = Date.now();
  }

  /**
   * The oldest waiting events of this relay's partitions, but for tickets waiting out a failure, and in the same
   * statement the installations the subscribers declared for the events' organisations (on the first row only).
   */
  async function readWaitingEvents(): Promise<Batch> {
    const now = Date.now();
    for (const [ticketId, block] of blockedTickets) if (block.retryAt <= now) blockedTickets.delete(ticketId);
    // One array parameter each, however many partitions or tickets.
    const result = await db.execute<Record<string, unknown>>(sql`
      with batch as (
        select id, organization_id, support_request_id, type, payload, actor_type, actor_id, created_at
        from ticket_events
        where dispatched_at is null
          and (hashtext(support_request_id::text) & 2147483647) % ${partitions} = any(${sql.param([...owned])}::int[])
          and not (support_request_id = any(${sql.param([...blockedTickets.keys()])}::uuid[]))
        order by id
        limit ${batchSize})
      select b.*,
        case when b.id = (select min(id) from batch)
          then ${installationsOfBatch(sql`batch`, sharedIntegrationTypes)} end as installations
      from batch b
      order by b.id`);
    const events = result.rows.map((r) => ({
      id: Number(r.id),
      organizationId: r.organization_id as string,
      ticketId: r.support_request_id as string,
      type: r.type as TicketEventType,
      payload: r.payload,
      actor: { type: r.actor_type as DispatchedTicketEvent['actor']['type'], id: r.actor_id as string | null },
      createdAt: new Date(r.created_at as string).toISOString(),
    }));
    return { events, installations: events.length > 0 ? installedRows(result.rows[0]!.installations) : [] };
  }

  /** Hands one batch to every subscriber; marks the events of every ticket whose sends all succeeded. */
  async function dispatchBatch(batch: Batch): Promise<void> {
    const { events } = batch;
    const ctx = contextFor(batch);
    const planned = await Promise.all(subscribers.map(async (s) => ({ s, sends: await s.plan(events, ctx) })));
    const sends: RelaySend[] = planned.flatMap((p) => p.sends);
    const failedTickets = new Set<string>();
    let ok = 0;
    let next = 0;
    const lane = async () => {
      while (next < sends.length) {
        const send = sends[next++]!;
        try {
          await send.send();
          ok += 1;
        } catch (err) {
          for (const t of send.ticketIds) failedTickets.add(t);
          logger?.warn(
            { err, target: send.target, tickets: send.ticketIds.length },
            'outbox send failed; tickets wait',
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, sends.length) }, lane));
    metrics.sends += sends.length;
    metrics.batches += 1;

    const delivered = events.filter((e) => !failedTickets.has(e.ticketId));
    if (delivered.length > 0) {
      // If this update fails the events are handed over again later, and their targets drop them.
      await db.execute(sql`
        update ticket_events set dispatched_at = now() where id = any(${sql.param(delivered.map((e) => e.id))}::bigint[])`);
      metrics.dispatched += delivered.length;
      metrics.lastLagMs = Date.now() - Date.parse(delivered.at(-1)!.createdAt);
      countKinds(planned, delivered);
    }
    for (const ticketId of new Set(delivered.map((e) => e.ticketId))) blockedTickets.delete(ticketId);
    if (failedTickets.size === 0) {
      failuresInARow = 0;
      pauseMs = 0;
      return;
    }
    metrics.failed += events.length - delivered.length;
    for (const ticketId of failedTickets) {
      const delayMs = Math.min(retryMaxMs, (blockedTickets.get(ticketId)?.delayMs ?? retryInitialMs / 2) * 2);
      blockedTickets.set(ticketId, { retryAt: Date.now() + delayMs, delayMs });
    }
    if (ok === 0) failuresInARow += 1;
  }

  function countKinds(planned: Array<{ s: RelaySubscriber; sends: RelaySend[] }>, delivered: DispatchedTicketEvent[]) {
    const wantedBy = { queue: new Set<string>(), workflow: new Set<string>() };
    for (const { s, sends } of planned)
      for (const send of sends) for (const t of send.ticketIds) wantedBy[s.kind].add(t);
    for (const e of delivered) {
      const queue = wantedBy.queue.has(e.ticketId);
      const workflow = wantedBy.workflow.has(e.ticketId);
      if (queue) metrics.byKind.queue += 1;
      if (workflow) metrics.byKind.workflow += 1;
      if (!queue && !workflow) metrics.byKind.none += 1;
    }
  }

  async function loop(): Promise<void> {
    let errorDelayMs = 0;
    while (!stopping) {
      try {
        const client = await connect();
        if (owned.size === 0 || Date.now() - lastRebalance >= pollIntervalMs) await rebalance(client);
        if (owned.size === 0) {
          await sleep(pollIntervalMs, { notify: false });
          continue;
        }
        if (failuresInARow >= 3) {
          pauseMs = Math.min(retryMaxMs, Math.max(retryInitialMs, pauseMs * 2));
          failuresInARow = 0;
          await sleep(pauseMs, { notify: false });
          continue;
        }
        notified = false;
        const batch = await readWaitingEvents();
        const { events } = batch;
        metrics.oldestPendingAgeMs = events[0] ? Date.now() - Date.parse(events[0].createdAt) : 0;
        if (events.length > 0) await dispatchBatch(batch);
        errorDelayMs = 0;
        // A full batch means more is waiting: go on at once. Otherwise wait for a NOTIFY or the poll.
        if (events.length < batchSize) await sleep(nextWait(), { notify: true });
      } catch (err) {
        logger?.error({ err }, 'outbox relay cycle failed; retrying');
        errorDelayMs = Math.min(retryMaxMs, Math.max(retryInitialMs, errorDelayMs * 2));
        await sleep(errorDelayMs, { notify: false });
      }
    }
  }

  /** Until the poll, or sooner when a blocked ticket's retry falls due. */
  function nextWait(): number {
    let wait = pollIntervalMs;
    const now = Date.now();
    for (const block of blockedTickets.values()) wait = Math.min(wait, Math.max(0, block.retryAt - now));
    return wait;
  }

  return {
    start() {
      if (running) return;
      stopping = false;
      running = loop();
    },
    async stop() {
      stopping = true;
      sleeping?.done();
      await running;
      running = undefined;
      // Closing the session (not returning it to the pool) releases the advisory locks and the LISTEN.
      if (session) dropSession(session);
    },
    metrics: () => ({ ...metrics, byKind: { ...metrics.byKind } }),
  };
}
