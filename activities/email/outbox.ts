// One round of an organisation's outbox (workflows/email-outbox.ts): the replies of the comments the relay announced
// are queued (once each: the row's source key `comment:<id>`), then the organisation's due queued rows leave through
// their mailboxes' pooled transports, several tickets at once, each ticket's rows one after the other, oldest first.
// PostgreSQL is the queue: a row whose attempt failed for a while (4xx, server unreachable, mailbox switched off)
// gets `next_attempt_at`, and its ticket sits out until then while the other tickets go on. Each send first claims
// its row (send.ts claimRow), so a second attempt of a round running next to the first sends nothing twice.
import { ticketEmails } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq, sql } from 'drizzle-orm';
import { Limiter, mapLimited } from '../../common/concurrency.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { EmailOutboxTicket } from '../../workflows/email-contract.ts';
import {
  ANNOUNCED_TICKETS_AT_ONCE,
  heartbeatEveryMs,
  planRound,
  type QueuedRow,
  retryDelayMs,
  roundBudgetMs,
  TICKETS_AT_ONCE_PER_MAILBOX,
} from './outbox-plan.ts';
import {
  afterNow,
  attemptSend,
  deferRow,
  type MailboxCache,
  queueReply,
  type SendAttempt,
  type SendDeps,
  sendTimeoutMs,
} from './send.ts';

/** Rows one round takes from the queue; more come in the next round, so the workflow hears back regularly. */
export const ROWS_PER_ROUND = 200;

export type OutboxRoundInput = { organizationId: string; tickets: EmailOutboxTicket[] };
export type OutboxRoundResult = {
  /** Rows were left for the next round (the round's size or time ran out): go again at once. */
  more: boolean;
  /**
   * In how many ms (by the database's clock) the earliest waiting ticket is due again; zero or less when one already
   * is (it became due while the round ran); null when nothing waits.
   */
  nextDueInMs: number | null;
  sent: number;
  failed: number;
  waiting: number;
  /** Announced comments whose replies could not be queued (logged): the workflow hands them to a later round. */
  unqueued: EmailOutboxTicket[];
};

type Wait = Extract<SendAttempt, { status: 'wait' }>;

export function createOutboxActivities(deps: SendDeps) {
  return {
    async sendOutboxRound(input: OutboxRoundInput): Promise<OutboxRoundResult> {
      const context = Context.current();
      // On a timer, not only after a send: a send may take three times EMAIL_TIMEOUT_MS, longer than the heartbeat
      // timeout, and a round thought dead is started again next to this one.
      const beat = setInterval(() => context.heartbeat(), heartbeatEveryMs(context.info.heartbeatTimeoutMs));
      try {
        return await round(deps, context, input);
      } finally {
        clearInterval(beat);
      }
    },
  };
}
export type OutboxActivities = ReturnType<typeof createOutboxActivities>;

async function round(deps: SendDeps, context: Context, input: OutboxRoundInput): Promise<OutboxRoundResult> {
  const started = Date.now();
  const budgetMs = roundBudgetMs(context.info.startToCloseTimeoutMs, sendTimeoutMs(deps.settings));
  const { organizationId } = input;

  const dueRows = (limit: number, ticketId?: string): Promise<QueuedRow[]> =>
    deps.db
      .select({
        id: ticketEmails.id,
        ticketId: ticketEmails.supportRequestId,
        integrationId: ticketEmails.integrationId,
      })
      .from(ticketEmails)
      .where(
        and(
          eq(ticketEmails.organizationId, organizationId),
          ticketId ? eq(ticketEmails.supportRequestId, ticketId) : undefined,
          eq(ticketEmails.status, 'queued'),
          eq(ticketEmails.direction, 'outbound'),
          // A ticket with a row waiting for its next attempt (or claimed by a send under way) sends none of its
          // rows before then: they go in order.
          sql`not exists (select 1 from ${ticketEmails} w
            where w.support_request_id = ${ticketEmails.supportRequestId}
              and w.status = 'queued' and w.next_attempt_at > now())`,
        ),
      )
      .orderBy(asc(ticketEmails.createdAt), asc(ticketEmails.id))
      .limit(limit);

  let more = false;
  const cache: MailboxCache = new Map();
  const counts = { sent: 0, failed: 0, waiting: 0 };
  const unqueued: EmailOutboxTicket[] = [];
  /** Sends per mailbox, recorded on its health once at the end with their count. */
  const successes = new Map<string, { count: number; at: Date }>();
  /** Mailboxes whose server failed this round: none of their rows is tried again in it. */
  const down = new Set<string>();

  /** No send starts once the round's time is up or the activity was cancelled (a retry has taken over). */
  const mayStart = (): boolean => {
    if (context.cancellationSignal.aborted) return false;
    if (Date.now() - started > budgetMs) {
      more = true;
      return false;
    }
    return true;
  };

  const sendTicket = async (rows: readonly QueuedRow[]) => {
    for (const row of rows) {
      if (!mayStart() || down.has(row.integrationId ?? '')) return;
      let outcome: SendAttempt;
      try {
        outcome = await attemptSend(deps, organizationId, row.id, { cache, recordSuccess: false });
      } catch (error) {
        if (isTicketGone(error)) return;
        // One ticket's trouble (a file store error for an attachment) must not stop the others' mail: it waits
        // like a server that cannot be reached. A database failure also fails this write and the round.
        outcome = await asWait(row.id, error);
      }
      if (outcome.status === 'sent') {
        counts.sent++;
        const known = successes.get(outcome.integrationId);
        if (known) {
          known.count++;
          known.at = new Date();
        } else successes.set(outcome.integrationId, { count: 1, at: new Date() });
      } else if (outcome.status === 'failed') counts.failed++;
      else if (outcome.status === 'busy')
        return; // another attempt holds it, or it waits: its later rows wait too
      else if (outcome.status === 'wait') {
        counts.waiting++;
        await deferRow(deps, outcome);
        if (outcome.mailboxWide && outcome.integrationId) await mailboxDown(outcome);
        return; // its later rows wait behind it
      }
    }
  };

  /**
   * The mailbox's server failed as a whole: its other queued rows would only fail the same way (or hang as long), so
   * they wait as long as the row that failed, which also makes later rounds leave the mailbox alone until then while
   * the other mailboxes' mail goes on. Their `attempts` stay: they were not tried.
   */
  const mailboxDown = async (wait: Wait) => {
    down.add(wait.integrationId);
    await deps.db
      .update(ticketEmails)
      .set({
        nextAttemptAt: sql`greatest(coalesce(${ticketEmails.nextAttemptAt}, now()), ${afterNow(retryDelayMs(wait.attempts + 1))})`,
        failureReason: sql`coalesce(${ticketEmails.failureReason}, ${`retrying: ${wait.message}`.slice(0, 1000)})`,
      })
      .where(
        and(
          eq(ticketEmails.organizationId, organizationId),
          eq(ticketEmails.integrationId, wait.integrationId),
          eq(ticketEmails.status, 'queued'),
          eq(ticketEmails.direction, 'outbound'),
        ),
      );
  };

  const asWait = async (emailId: string, error: unknown): Promise<Wait> => {
    context.log.warn('an outbound email waits after an unexpected error', { emailId, error: describe(error) });
    const [row] = await deps.db
      .select({ attempts: ticketEmails.attempts, integrationId: ticketEmails.integrationId })
      .from(ticketEmails)
      .where(eq(ticketEmails.id, emailId));
    return {
      status: 'wait',
      type: 'SendError',
      // The ticket shows that it waits and why in general terms; the details (maybe internal) go to the log.
      message: 'the email could not be prepared for sending; it is tried again',
      mailboxWide: false,
      emailId,
      attempts: row?.attempts ?? 0,
      organizationId,
      integrationId: row?.integrationId ?? '',
      ticketNumber: 0,
    };
  };

  // Every send takes one of its mailbox's lanes (TICKETS_AT_ONCE_PER_MAILBOX), announced or not.
  const lanes = new Map<string, Limiter>();
  const sends: Promise<void>[] = [];
  const errors: unknown[] = [];
  const scheduled = new Set<string>();
  const schedule = (ticketId: string, rows: readonly QueuedRow[]) => {
    if (rows.length === 0 || scheduled.has(ticketId)) return;
    scheduled.add(ticketId);
    const mailbox = rows[0]!.integrationId ?? '';
    let limiter = lanes.get(mailbox);
    if (!limiter) {
      limiter = new Limiter(TICKETS_AT_ONCE_PER_MAILBOX);
      lanes.set(mailbox, limiter);
    }
    // Caught at once: a failure here must not be an unhandled rejection while the round goes on; it fails the round
    // once every send under way has ended.
    sends.push(limiter.run(() => sendTicket(rows)).catch((error: unknown) => void errors.push(error)));
  };

  // The announced tickets first: each one's replies are queued and its rows handed to its mailbox's lanes at once, so
  // a reply does not wait for the whole round's queueing.
  await mapLimited(input.tickets, ANNOUNCED_TICKETS_AT_ONCE, async ({ ticketId, commentIds }) => {
    for (const [i, commentId] of commentIds.entries()) {
      try {
        await queueReply(deps, { organizationId, ticketId, commentId });
      } catch (error) {
        if (isTicketGone(error)) return;
        // This ticket's comments (this one and those after it, in order) go back to the workflow for a later round;
        // the other tickets go on.
        context.log.error('the replies of a ticket’s comments could not be queued; they are tried again', {
          ticketId,
          commentIds: commentIds.slice(i),
          error: describe(error),
        });
        unqueued.push({ ticketId, commentIds: commentIds.slice(i) });
        break;
      }
    }
    schedule(ticketId, await dueRows(ROWS_PER_ROUND, ticketId));
  });

  // Then every other due row of the organisation (acknowledgements, composer sends, rows whose wait is over, what the
  // announced part left), grouped by mailbox.
  const due = await dueRows(ROWS_PER_ROUND + 1);
  if (due.length > ROWS_PER_ROUND) more = true;
  for (const tickets of planRound(due.slice(0, ROWS_PER_ROUND)).values())
    for (const ticket of tickets) schedule(ticket.ticketId, ticket.rows);
  await Promise.all(sends);
  if (errors.length > 0) throw errors[0];

  // Every send counted on its mailbox's health, in one write per mailbox and round.
  for (const [integrationId, { count, at }] of successes)
    await recordIntegrationOutcome(deps.db, organizationId, integrationId, { ok: true, at, count });

  return { more, nextDueInMs: await nextDueInMs(deps, organizationId), ...counts, unqueued };
}

/**
 * When the earliest waiting ticket may send again, in ms from the database's now(): a ticket is due once every one of
 * its waiting rows is (dueRows' condition), so the latest time of each ticket counts, including times already past
 * (a row that became due while the round ran, which the workflow must not sleep through).
 */
async function nextDueInMs(deps: SendDeps, organizationId: string): Promise<number | null> {
  const result = await deps.db.execute<{ ms: string | null }>(sql`
    select extract(epoch from min(due) - now()) * 1000 as ms
    from (
      select max(${ticketEmails.nextAttemptAt}) as due
      from ${ticketEmails}
      where ${ticketEmails.organizationId} = ${organizationId} and ${ticketEmails.status} = 'queued'
        and ${ticketEmails.direction} = 'outbound' and ${ticketEmails.nextAttemptAt} is not null
      group by ${ticketEmails.supportRequestId}
    ) waiting`);
  const ms = result.rows[0]?.ms;
  return ms === null || ms === undefined ? null : Math.ceil(Number(ms));
}

/**
 * An error for the log. A failed query's message carries its parameters (a reply's text, addresses): only the
 * database's error code is logged for it.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if ('query' in error) {
    const code = (error.cause as { code?: unknown } | undefined)?.code;
    return `${error.name}: a query failed${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  return `${error.name}: ${error.message}`;
}

function isTicketGone(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.type === 'TicketGone';
}
