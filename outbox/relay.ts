// The outbox relay: moves committed ticket_events rows to their ticket workflows, oldest first, and marks each
// dispatched once Temporal has accepted it. Never drops an event and never marks one it did not deliver; a
// ticket whose event fails waits (its later events too) while other tickets go on.
//
// Why order holds: one ticket's ids grow in commit order (they are allocated under the ticket row lock), every
// relay sends one ticket's events in id order and only sends the next once the previous was accepted, and the
// ticket workflow drops any id at or below the last one it applied. So redeliveries (a retry after a timeout
// that did reach Temporal, a crash before marking, a second relay) are dropped, and nothing is skipped.
// Only one relay works at a time (a session advisory lock) so several workers don't send everything twice.
import type { Database } from '@switchboard/database';
import { OUTBOX_CHANNEL, ticketEvents } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { and, asc, inArray, isNull, notInArray, sql } from 'drizzle-orm';
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
  batchSize?: number;
  /** Tickets dispatched at the same time (one ticket's events are always sequential). */
  concurrency?: number;
  /** Poll even without a NOTIFY: after a missed notification, or on a standby relay watching for the lock. */
  pollIntervalMs?: number;
  dispatchTimeoutMs?: number;
  /** Backoff after failures (Temporal down, database down), doubling up to the maximum. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
};

export type RelayMetrics = {
  /** Events Temporal accepted (and the relay marked dispatched), since start. */
  dispatched: number;
  /** Events whose dispatch attempt failed (each is retried later), since start. */
  failed: number;
  batches: number;
  /** Age of the oldest event still waiting after the last batch (0 when the outbox is empty). */
  oldestPendingAgeMs: number;
  /** The largest commit-to-accept delay among the events of the last batch. */
  lastBatchLagMs: number;
  isLeader: boolean;
};

export type OutboxRelay = {
  start(): void;
  /** Finishes the batch in flight, releases the lock and the connection. */
  stop(): Promise<void>;
  metrics(): RelayMetrics;
};

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
  const metrics: RelayMetrics = {
    dispatched: 0,
    failed: 0,
    batches: 0,
    oldestPendingAgeMs: 0,
    lastBatchLagMs: 0,
    isLeader: false,
  };
  /** Tickets whose last dispatch failed: not retried before `retryAt`, so one bad ticket does not slow the rest. */
  const blockedTickets = new Map<string, { retryAt: number; delayMs: number }>();
  let listener: pg.PoolClient | undefined;
  let running: Promise<void> | undefined;
  let stopping = false;
  let notified = false;
  let wake: (() => void) | undefined;
  let globalDelayMs = 0;

  const wakeUp = () => {
    notified = true;
    wake?.();
  };
  /** Sleeps until the timeout, stop(), or (if asked) a NOTIFY, including one that came during the last batch. */
  const sleepers = new Set<() => void>();
  const sleep = (ms: number, wakeOnNotify: boolean) =>
    new Promise<void>((resolve) => {
      if (stopping || (wakeOnNotify && notified)) return resolve();
      const done = () => {
        clearTimeout(timer);
        sleepers.delete(done);
        if (wake === done) wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      sleepers.add(done);
      if (wakeOnNotify) wake = done;
    });

  async function becomeLeader(): Promise<boolean> {
    if (!listener) {
      const client = await pool.connect();
      client.on('notification', wakeUp);
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
    client.removeListener('notification', wakeUp);
    if (released.has(client)) return;
    released.add(client);
    client.release(err ?? true);
  }

  async function relayBatch(): Promise<{ claimed: number; failedTickets: number; attemptedTickets: number }> {
    const now = Date.now();
    for (const [ticketId, block] of blockedTickets) if (block.retryAt <= now) blockedTickets.delete(ticketId);
    const waiting = [...blockedTickets.keys()];
    const rows = await db
      .select()
      .from(ticketEvents)
      .where(
        and(
          isNull(ticketEvents.dispatchedAt),
          waiting.length ? notInArray(ticketEvents.supportRequestId, waiting) : undefined,
        ),
      )
      .orderBy(asc(ticketEvents.id))
      .limit(batchSize);
    const byTicket = new Map<string, TicketEventRow[]>();
    for (const row of rows) {
      const list = byTicket.get(row.supportRequestId);
      if (list) list.push(row);
      else byTicket.set(row.supportRequestId, [row]);
    }

    const delivered: TicketEventRow[] = [];
    let failedTickets = 0;
    await forEachConcurrently([...byTicket], concurrency, async ([ticketId, events]) => {
      for (const chunk of chunkForSignals(events)) {
        try {
          await dispatchTicketEvents(temporal, chunk.map(toDispatchedEvent), {
            taskQueue,
            timeoutMs: dispatchTimeoutMs,
          });
          delivered.push(...chunk);
        } catch (err) {
          metrics.failed += chunk.length;
          failedTickets += 1;
          const delayMs = Math.min(retryMaxMs, (blockedTickets.get(ticketId)?.delayMs ?? retryInitialMs / 2) * 2);
          blockedTickets.set(ticketId, { retryAt: Date.now() + delayMs, delayMs });
          logger?.warn(
            { err, eventIds: chunk.map((r) => r.id), ticketId, retryInMs: delayMs },
            'outbox dispatch failed; ticket waits',
          );
          return; // later events of this ticket must not overtake these
        }
      }
      blockedTickets.delete(ticketId);
    });

    if (delivered.length) {
      await db
        .update(ticketEvents)
        .set({ dispatchedAt: sql`now()` })
        .where(
          inArray(
            ticketEvents.id,
            delivered.map((r) => r.id),
          ),
        );
    }
    const after = Date.now();
    metrics.dispatched += delivered.length;
    metrics.batches += 1;
    metrics.lastBatchLagMs = Math.max(0, ...delivered.map((r) => after - r.createdAt.getTime()));
    const deliveredIds = new Set(delivered.map((r) => r.id));
    const left = rows.filter((r) => !deliveredIds.has(r.id));
    metrics.oldestPendingAgeMs = left.length ? after - Math.min(...left.map((r) => r.createdAt.getTime())) : 0;
    return { claimed: rows.length, failedTickets, attemptedTickets: byTicket.size };
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        if (!metrics.isLeader && !(await becomeLeader())) {
          await sleep(pollIntervalMs, false);
          continue;
        }
        notified = false;
        const batch = await relayBatch();
        if (batch.attemptedTickets > 0 && batch.failedTickets === batch.attemptedTickets) {
          // Nothing got through: Temporal is most likely down. Back off instead of hammering it.
          globalDelayMs = Math.min(retryMaxMs, Math.max(retryInitialMs, globalDelayMs * 2));
          await sleep(globalDelayMs, false);
          continue;
        }
        globalDelayMs = 0;
        if (batch.claimed === batchSize) continue; // more are waiting
        await sleep(pollIntervalMs, true);
      } catch (err) {
        logger?.error({ err }, 'outbox relay cycle failed; retrying');
        globalDelayMs = Math.min(retryMaxMs, Math.max(retryInitialMs, globalDelayMs * 2));
        await sleep(globalDelayMs, false);
      }
    }
  }

  return {
    start() {
      if (running) return;
      stopping = false;
      running = loop();
    },
    async stop() {
      stopping = true;
      for (const done of [...sleepers]) done();
      await running;
      running = undefined;
      // Closing the session (not returning it to the pool) releases the advisory lock and the LISTEN.
      if (listener) dropListener(listener);
    },
    metrics: () => ({ ...metrics }),
  };
}

async function forEachConcurrently<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}
