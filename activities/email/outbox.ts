// One round of an organisation's outbox (workflows/email-outbox.ts): the replies of the comments the relay announced
// are queued (once each: the row's source key `comment:<id>`), then the organisation's due queued rows leave through
// their mailboxes' pooled transports, several tickets at once, each ticket's rows one after the other, oldest first.
// PostgreSQL is the queue: a row whose attempt failed for a while (4xx, server unreachable, mailbox switched off)
// gets `next_attempt_at`, and its ticket sits out until then while the other tickets go on.
import { ticketEmails } from '@switchboard/database';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { and, asc, eq, gt, min, sql } from 'drizzle-orm';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import type { EmailOutboxTicket } from '../../workflows/email-contract.ts';
import { ANNOUNCED_TICKETS_AT_ONCE, planRound, retryDelayMs, TICKETS_AT_ONCE_PER_MAILBOX } from './outbox-plan.ts';
import { attemptSend, type MailboxCache, queueReply, recordSendWait, type SendAttempt, type SendDeps } from './send.ts';

/** Rows one round takes from the queue; more come in the next round, so the workflow hears back regularly. */
export const ROWS_PER_ROUND = 200;
/** A round starts no send after this; the workflow's start-to-close leaves room for the ones under way. */
export const ROUND_BUDGET_MS = 60_000;

export type OutboxRoundInput = { organizationId: string; tickets: EmailOutboxTicket[] };
export type OutboxRoundResult = {
  /** Rows were left for the next round (the round's size or time ran out): go again at once. */
  more: boolean;
  /** When the earliest waiting row is due again (ms since the epoch); null when nothing waits. */
  nextDueAt: number | null;
  sent: number;
  failed: number;
  waiting: number;
};

export function createOutboxActivities(deps: SendDeps) {
  return {
    async sendOutboxRound(input: OutboxRoundInput): Promise<OutboxRoundResult> {
      const started = Date.now();
      const heartbeat = () => Context.current().heartbeat();
      const { organizationId } = input;

      const dueRows = (limit: number, ticketId?: string) =>
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
              // A ticket with a row waiting for its next attempt sends none of its later rows before it.
              sql`not exists (select 1 from ${ticketEmails} w
                where w.support_request_id = ${ticketEmails.supportRequestId}
                  and w.status = 'queued' and w.next_attempt_at > now())`,
            ),
          )
          .orderBy(asc(ticketEmails.createdAt), asc(ticketEmails.id))
          .limit(limit);
      let more = false;
      const cache: MailboxCache = new Map();
      const lastSuccess = new Map<string, Date>();
      const counts = { sent: 0, failed: 0, waiting: 0 };
      /** Mailboxes whose server failed this round: their tickets go to the per-mailbox part below. */
      const troubled = new Set<string>();
      const sendTicket = async (emailIds: string[]) => {
        for (const emailId of emailIds) {
          if (Date.now() - started > ROUND_BUDGET_MS) {
            more = true;
            return;
          }
          let outcome: SendAttempt;
          try {
            outcome = await attemptSend(deps, organizationId, emailId, { cache, recordSuccess: false });
          } catch (error) {
            if (isTicketGone(error)) return;
            // One ticket's trouble (a file store error for an attachment) must not stop the others' mail: it waits
            // like a server that cannot be reached. A database failure also fails this write and the round.
            outcome = await asWait(emailId, error);
          }
          heartbeat();
          if (outcome.status === 'sent') {
            counts.sent++;
            lastSuccess.set(outcome.integrationId, new Date());
          } else if (outcome.status === 'failed') counts.failed++;
          else if (outcome.status === 'wait') {
            counts.waiting++;
            if (outcome.type === 'MailSendError') troubled.add(outcome.integrationId);
            await deferRow(emailId, outcome);
            return; // its later rows wait behind it
          }
        }
      };
      const deferRow = async (emailId: string, wait: Extract<SendAttempt, { status: 'wait' }>) => {
        const attempts = wait.attempts + 1;
        const nextAttemptAt = new Date(Date.now() + retryDelayMs(attempts));
        await deps.db
          .update(ticketEmails)
          .set({ attempts, nextAttemptAt, failureReason: `retrying: ${wait.message}`.slice(0, 1000) })
          .where(and(eq(ticketEmails.id, emailId), eq(ticketEmails.status, 'queued')));
        if (wait.type === 'MailSendError' && wait.integrationId)
          await recordSendWait(deps, wait, `attempt ${attempts}, next at ${nextAttemptAt.toISOString()}`);
      };
      const asWait = async (emailId: string, error: unknown): Promise<Extract<SendAttempt, { status: 'wait' }>> => {
        Context.current().log.warn('an outbound email waits after an unexpected error', {
          emailId,
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        });
        const [row] = await deps.db
          .select({ attempts: ticketEmails.attempts, integrationId: ticketEmails.integrationId })
          .from(ticketEmails)
          .where(eq(ticketEmails.id, emailId));
        return {
          status: 'wait',
          type: 'SendError',
          // The ticket shows that it waits and why in general terms; the details (maybe internal) go to the log.
          message: 'the email could not be prepared for sending; it is tried again',
          attempts: row?.attempts ?? 0,
          organizationId,
          integrationId: row?.integrationId ?? '',
          ticketNumber: 0,
        };
      };

      // The announced tickets first, each in one lane: its replies are queued, then its rows leave at once, so a
      // reply does not wait for the whole round's queueing (a mailbox whose server failed in this round is left to
      // the per-mailbox part below, where it only holds its own lanes).
      await forEachLimited(input.tickets, ANNOUNCED_TICKETS_AT_ONCE, async ({ ticketId, commentIds }) => {
        try {
          for (const commentId of commentIds) await queueReply(deps, { organizationId, ticketId, commentId });
        } catch (error) {
          if (!isTicketGone(error)) throw error;
          return;
        }
        heartbeat();
        const rows = await dueRows(ROWS_PER_ROUND, ticketId);
        if (rows.length === 0 || troubled.has(rows[0]!.integrationId ?? '')) return;
        await sendTicket(rows.map((r) => r.id));
      });

      // Then every other due row of the organisation (acknowledgements, composer sends, rows whose wait is over,
      // what the lanes above left), each mailbox with its own share of lanes.
      const due = await dueRows(ROWS_PER_ROUND + 1);
      if (due.length > ROWS_PER_ROUND) more = true;
      const plan = planRound(due.slice(0, ROWS_PER_ROUND));
      await Promise.all(
        [...plan.values()].map((tickets) =>
          forEachLimited(tickets, TICKETS_AT_ONCE_PER_MAILBOX, (ticket) => sendTicket(ticket.emailIds)),
        ),
      );
      // One success per mailbox and round on its health (its latest send), not a write to the same row per mail.
      for (const [integrationId, at] of lastSuccess)
        await recordIntegrationOutcome(deps.db, organizationId, integrationId, { ok: true, at });

      const [next] = await deps.db
        .select({ at: min(ticketEmails.nextAttemptAt) })
        .from(ticketEmails)
        .where(
          and(
            eq(ticketEmails.organizationId, organizationId),
            eq(ticketEmails.status, 'queued'),
            gt(ticketEmails.nextAttemptAt, sql`now()`),
          ),
        );
      return { more, nextDueAt: next?.at ? new Date(next.at).getTime() : null, ...counts };
    },
  };
}
export type OutboxActivities = ReturnType<typeof createOutboxActivities>;

function isTicketGone(error: unknown): boolean {
  return error instanceof ApplicationFailure && error.type === 'TicketGone';
}

/** Runs `work` over the items, at most `limit` at a time, in their order. */
async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}
