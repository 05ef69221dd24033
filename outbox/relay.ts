// The outbox relay: moves committed ticket_events rows to their ticket workflows, oldest first, and marks them
// dispatched once Temporal has accepted them. Never drops an event and never marks one it did not deliver; a
// ticket whose event fails waits (its later events too) while other tickets go on.
//
// Why order holds: one ticket's ids grow in commit order (they are allocated under the ticket row lock), every
// relay sends one ticket's events in id order and only sends the next once the previous was accepted, and the
// ticket workflow drops any id at or below the last one it applied. So redeliveries (a retry after a timeout
// that did reach Temporal, a crash before marking, a second relay) are dropped, and nothing is skipped.
// Only one relay works at a time (a session advisory lock) so several workers don't send everything twice.
//
// Throughput: each ticket with waiting events gets a lane (up to `concurrency` at once) that sends its backlog in
// as few signals as possible and marks them; the loop fills free lanes as soon as one finishes, so one slow ticket
// never holds up a whole batch.
import type { Database } from '@switchboard/database';
import { OUTBOX_CHANNEL, ticketEvents } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { inArray, sql } from 'drizzle-orm';
import type pg from 'pg';
import type { Logger } from '../common/logger.ts';
import { chunkForSignals, dispatchTicketEvents, type TicketEventRow, toDispatchedEvent } from './dispatch.ts';

/** Key of the session advisory lock that makes one relay the active one (the others stand by). */
export const RELAY_LOCK_KEY = 0x53_57_42_4f_58n; // "SWBOX"

export type OutboxRelayOptions = {
  db: Database;
  /** The pool the relay takes its LISTEN connection from (held for the relay's life, it also holds the lock). */
  pool: pg.Pool;
  temporal: Client;
  taskQueue?: string;
  /** Rows read per look at the outbox. */
  batchSize?: number;
  /** Tickets dispatched at the same time (one ticket's events are always sequential). */
  concurrency?: number;
  /** Poll even without a NOTIFY: after a missed notification, or on a standby relay watching for the lock. */
  pollIntervalMs?: number;
  dispatchTimeoutMs?: number;
  /** Backoff after failures (per ticket; for everyone when nothing gets through), doubling up to the maximum. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
};

export type RelayMetrics = {
  /** Events Temporal accepted and the relay marked dispatched, since start. */
  dispatched: number;
  /** Events whose dispatch attempt failed (each is retried later), since start. */
  failed: number;
  /** Age of the oldest waiting event the relay saw at its last look (0 when the outbox was empty). */
  oldestPendingAgeMs: number;
  /** Commit-to-accept delay of the most recently dispatched event. */
  lastLagMs: number;
  isLeader: boolean;
  /** Times the session holding the lock (and the LISTEN) broke, since start; the relay then takes the lock again. */
  sessionsLost: number;
};

export type OutboxRelay = {
  start(): void;
  /** Lets the lanes in flight finish, then releases the lock and the connection. */
  stop(): Promise<void>;
  metrics(): RelayMetrics;
};

/** A relay's counters before it has done anything. */
export function freshRelayMetrics(): RelayMetrics {
  return { dispatched: 0, failed: 0, oldestPendingAgeMs: 0, lastLagMs: 0, isLeader: false, sessionsLost: 0 };
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const {
    db,
    pool,
    temporal,
    taskQueue,
    batchSize = 500,
    concurrency = 32,
    pollIntervalMs = 1_000,
    dispatchTimeoutMs = 5_000,
    retryInitialMs = 200,
    retryMaxMs = 10_000,
    logger,
  } = options;
  const metrics = freshRelayMetrics();
  /** Tickets being dispatched right now: their rows are not read again until the lane has marked what it sent. */
  const lanes = new Map<string, Promise<void>>();
  /** Tickets whose last dispatch failed: not retried before `retryAt`, so one bad ticket does not slow the rest. */
  const blockedTickets = new Map<string, { retryAt: number; delayMs: number }>();
  /** Failures in a row with no success between: Temporal is most likely down, so everyone pauses. */
  let failuresInARow = 0;
  let pausedUntil = 0;
  let pauseMs = 0;
  let listener: pg.PoolClient | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;

  // Wake-ups: a lane finishing, stop(), and a NOTIFY when the loop wants one (a standby, a paused relay or one with
  // its lanes mostly busy does not). The flags remember a wake-up that came while the loop was busy.
  let laneFinished = false;
  let notified = false;
  let acceptsNotify = false;
  let wake: (() => void) | undefined;
  const onNotify = () => {
    notified = true;
    if (acceptsNotify) wake?.();
  };
  const onLaneFinished = () => {
    laneFinished = true;
    wake?.();
  };
  const sleep = (ms: number, { notify }: { notify: boolean }) =>
    new Promise<'timeout' | 'woken'>((resolve) => {
      if (stopping || laneFinished || (notify && notified)) return resolve('woken');
      acceptsNotify = notify;
      const timer = setTimeout(() => done('timeout'), ms);
      function done(reason: 'timeout' | 'woken') {
        clearTimeout(timer);
        wake = undefined;
        acceptsNotify = false;
        resolve(reason);
      }
      wake = () => done('woken');
    });

  async function becomeLeader(): Promise<boolean> {
    if (!listener) {
      const client = await pool.connect();
      client.on('notification', onNotify);
      client.on('error', (err) => {
        logger?.warn({ err }, 'outbox relay lost its database connection');
        dropListener(client, err);
      });
      try {
        await client.query(`listen ${OUTBOX_CHANNEL}`);
      } catch (err) {
        dropListener(client, err as Error);
        throw err;
      }
      listener = client;
    }
    const result = await listener.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
      RELAY_LOCK_KEY.toString(),
    ]);
    metrics.isLeader = result.rows[0]!.locked;
    if (metrics.isLeader) logger?.info('outbox relay is the active relay');
    return metrics.isLeader;
  }

  // A broken connection can report through both the failed query and its 'error' event: release it once.
  const released = new WeakSet<pg.PoolClient>();
  function dropListener(client: pg.PoolClient, err?: Error) {
    if (listener === client) listener = undefined;
    metrics.isLeader = false;
    client.removeListener('notification', onNotify);
    if (released.has(client)) return;
    released.add(client);
    if (err) metrics.sessionsLost++;
    client.release(err ?? true);
  }

  /** The oldest waiting events of tickets that are neither in a lane nor waiting out a failure. */
  async function readWaitingEvents(): Promise<TicketEventRow[]> {
    const now = Date.now();
    for (const [ticketId, block] of blockedTickets) if (block.retryAt <= now) blockedTickets.delete(ticketId);
    const excluded = [...lanes.keys(), ...blockedTickets.keys()];
    // One array parameter, however many tickets are excluded.
    const result = await db.execute<Record<string, unknown>>(sql`
      select id, organization_id, support_request_id, type, payload, actor_type, actor_id, created_at
      from ticket_events
      where dispatched_at is null and not (support_request_id = any(${`{${excluded.join(',')}}`}::uuid[]))
      order by id
      limit ${batchSize}`);
    return result.rows.map((r) => ({
      id: Number(r.id),
      organizationId: r.organization_id as string,
      supportRequestId: r.support_request_id as string,
      type: r.type as string,
      payload: r.payload,
      actorType: r.actor_type as TicketEventRow['actorType'],
      actorId: r.actor_id as string | null,
      createdAt: new Date(r.created_at as string),
      dispatchedAt: null,
    }));
  }

  /** Sends one ticket's events in order, marking each signal's events as soon as Temporal accepted it. */
  async function runLane(ticketId: string, events: TicketEventRow[]): Promise<void> {
    for (const chunk of chunkForSignals(events)) {
      try {
        await dispatchTicketEvents(temporal, chunk.map(toDispatchedEvent), { taskQueue, timeoutMs: dispatchTimeoutMs });
      } catch (err) {
        metrics.failed += chunk.length;
        failuresInARow += 1;
        const delayMs = Math.min(retryMaxMs, (blockedTickets.get(ticketId)?.delayMs ?? retryInitialMs / 2) * 2);
        blockedTickets.set(ticketId, { retryAt: Date.now() + delayMs, delayMs });
        if (failuresInARow >= 3) {
          pauseMs = Math.min(retryMaxMs, Math.max(retryInitialMs, pauseMs * 2));
          pausedUntil = Date.now() + pauseMs;
        }
        logger?.warn(
          { err, eventIds: chunk.map((r) => r.id), ticketId, retryInMs: delayMs },
          'outbox dispatch failed; ticket waits',
        );
        return; // later events of this ticket must not overtake these
      }
      failuresInARow = 0;
      pauseMs = 0;
      // If this update fails the events are sent again later, and the workflow drops them as already applied.
      await db
        .update(ticketEvents)
        .set({ dispatchedAt: sql`now()` })
        .where(
          inArray(
            ticketEvents.id,
            chunk.map((r) => r.id),
          ),
        );
      metrics.dispatched += chunk.length;
      metrics.lastLagMs = Date.now() - chunk.at(-1)!.createdAt.getTime();
    }
    blockedTickets.delete(ticketId);
  }

  function startLane(ticketId: string, events: TicketEventRow[]) {
    const lane = runLane(ticketId, events)
      .catch((err) => logger?.error({ err, ticketId }, 'outbox lane failed; the ticket is retried'))
      .finally(() => {
        lanes.delete(ticketId);
        onLaneFinished();
      });
    lanes.set(ticketId, lane);
  }

  async function loop(): Promise<void> {
    let errorDelayMs = 0;
    let woke: 'timeout' | 'woken' = 'timeout';
    while (!stopping) {
      try {
        laneFinished = false;
        if (!metrics.isLeader && !(await becomeLeader())) {
          woke = await sleep(pollIntervalMs, { notify: false });
          continue;
        }
        const pausedFor = pausedUntil - Date.now();
        if (pausedFor > 0) {
          woke = await sleep(pausedFor, { notify: false });
          continue;
        }
        // Refill lanes once at least half are free (or the poll came round): one read then starts many lanes,
        // instead of one read per finished lane.
        if (lanes.size < concurrency && (lanes.size <= concurrency / 2 || woke === 'timeout')) {
          notified = false;
          const rows = await readWaitingEvents();
          metrics.oldestPendingAgeMs = rows[0] ? Date.now() - rows[0].createdAt.getTime() : 0;
          for (const [ticketId, events] of groupByTicket(rows)) {
            if (lanes.size >= concurrency) break;
            startLane(ticketId, events);
          }
        }
        errorDelayMs = 0;
        woke = await sleep(pollIntervalMs, { notify: lanes.size <= concurrency / 2 });
      } catch (err) {
        logger?.error({ err }, 'outbox relay cycle failed; retrying');
        errorDelayMs = Math.min(retryMaxMs, Math.max(retryInitialMs, errorDelayMs * 2));
        woke = await sleep(errorDelayMs, { notify: false });
      }
    }
    await Promise.all(lanes.values());
  }

  return {
    start() {
      if (running) return;
      stopping = false;
      running = loop();
    },
    async stop() {
      stopping = true;
      wake?.();
      await running;
      running = undefined;
      // Closing the session (not returning it to the pool) releases the advisory lock and the LISTEN.
      if (listener) dropListener(listener);
    },
    metrics: () => ({ ...metrics }),
  };
}

function groupByTicket(rows: TicketEventRow[]): Map<string, TicketEventRow[]> {
  const byTicket = new Map<string, TicketEventRow[]>();
  for (const row of rows) {
    const list = byTicket.get(row.supportRequestId);
    if (list) list.push(row);
    else byTicket.set(row.supportRequestId, [row]);
  }
  return byTicket;
}
