// The outbox round's decisions, pure: which tickets a round sends and in which groups, how long a ticket whose
// mail could not go out yet waits before its next attempt, and the round's time limits.

/**
 * Up to the pool's connections × 2 tickets of one mailbox at a time: the pool stays busy while a ticket reads. Every
 * send of a round, announced or not, takes one of its mailbox's lanes, so a mailbox whose server hangs holds only
 * its own.
 */
export const TICKETS_AT_ONCE_PER_MAILBOX = 10;
/**
 * The announced tickets of a round queued at a time: each lane waits on the database only (queueing the replies,
 * reading the ticket's due rows) and hands the sends to the mailbox's lanes; the pool queues what it cannot take.
 */
export const ANNOUNCED_TICKETS_AT_ONCE = 20;

/** The first wait after a failed attempt; it doubles with each further attempt, up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 10_000;
export const RETRY_MAX_MS = 30 * 60_000;

/** The wait before the next attempt of a row that has failed `attempts` times (as the thread workflow's retry). */
export function retryDelayMs(attempts: number): number {
  const exponent = Math.max(0, attempts - 1);
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(exponent, 20));
}

/** A round starts no send after this (unless the activity's timeout leaves less, roundBudgetMs). */
export const ROUND_BUDGET_MS = 60_000;
/** Left at the end of the activity's start-to-close timeout for the writes after the last send. */
const ROUND_MARGIN_MS = 30_000;
/** However short the timeout, a round gets this long to start sends (a claim keeps an overrun from doubling one). */
const MIN_ROUND_BUDGET_MS = 10_000;
const HEARTBEAT_EVERY_MS = 10_000;

/**
 * How long a round starts sends: the last one, which may take `sendMs` (three times EMAIL_TIMEOUT_MS), still ends
 * before the activity's start-to-close timeout, so a slow server does not make Temporal start a second attempt of the
 * round next to the first.
 */
export function roundBudgetMs(startToCloseMs: number | undefined, sendMs: number): number {
  if (!startToCloseMs) return ROUND_BUDGET_MS;
  return Math.max(MIN_ROUND_BUDGET_MS, Math.min(ROUND_BUDGET_MS, startToCloseMs - sendMs - ROUND_MARGIN_MS));
}

/** Heartbeats on a timer, a few per heartbeat timeout, so a send that takes long is not taken for a dead worker. */
export function heartbeatEveryMs(heartbeatTimeoutMs: number | undefined): number {
  if (!heartbeatTimeoutMs) return HEARTBEAT_EVERY_MS;
  return Math.max(50, Math.min(HEARTBEAT_EVERY_MS, Math.floor(heartbeatTimeoutMs / 3)));
}

export type QueuedRow = { id: string; ticketId: string; integrationId: string | null };
export type TicketSends = { ticketId: string; rows: QueuedRow[] };

/**
 * The due rows (oldest first) as tickets to send, grouped by the mailbox of each ticket's oldest row: each group gets
 * its own share of concurrency, so a mailbox whose server hangs only slows its own tickets. A ticket's rows stay in
 * order and stay together, even when a later one goes through another mailbox (they leave one after the other).
 */
export function planRound(rows: readonly QueuedRow[]): Map<string, TicketSends[]> {
  const tickets = new Map<string, { mailbox: string; sends: TicketSends }>();
  for (const row of rows) {
    const known = tickets.get(row.ticketId);
    if (known) known.sends.rows.push(row);
    else
      tickets.set(row.ticketId, {
        mailbox: row.integrationId ?? '',
        sends: { ticketId: row.ticketId, rows: [row] },
      });
  }
  const byMailbox = new Map<string, TicketSends[]>();
  for (const { mailbox, sends } of tickets.values()) {
    const list = byMailbox.get(mailbox);
    if (list) list.push(sends);
    else byMailbox.set(mailbox, [sends]);
  }
  return byMailbox;
}
