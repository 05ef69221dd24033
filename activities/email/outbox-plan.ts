// The outbox round's decisions, pure: which tickets a round sends and in which groups, and how long a ticket whose
// mail could not go out yet waits before its next attempt.

/** Up to the pool's connections × 2 tickets of one mailbox at a time: the pool stays busy while a ticket reads. */
export const TICKETS_AT_ONCE_PER_MAILBOX = 10;
/**
 * The announced tickets of a round at a time: each lane mostly waits on the database (queueing the reply, reading the
 * thread), so more lanes than the pool's connections keep it fed; the pool queues what it cannot take at once.
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

export type QueuedRow = { id: string; ticketId: string; integrationId: string | null };
export type TicketSends = { ticketId: string; emailIds: string[] };

/**
 * The due rows (oldest first) as tickets to send, grouped by the mailbox of each ticket's oldest row: each group gets
 * its own share of concurrency, so a mailbox whose server hangs only slows its own tickets. A ticket's rows stay in
 * order and stay together, even when a later one goes through another mailbox (they leave one after the other).
 */
export function planRound(rows: readonly QueuedRow[]): Map<string, TicketSends[]> {
  const tickets = new Map<string, { mailbox: string; sends: TicketSends }>();
  for (const row of rows) {
    const known = tickets.get(row.ticketId);
    if (known) known.sends.emailIds.push(row.id);
    else
      tickets.set(row.ticketId, {
        mailbox: row.integrationId ?? '',
        sends: { ticketId: row.ticketId, emailIds: [row.id] },
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
