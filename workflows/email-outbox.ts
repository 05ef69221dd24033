// The outbound mail of one organisation (`email-outbox/<organizationId>`), for all its mailboxes, woken by the relay
// with the tickets of a batch that have mail to send (an agent's public comments on a ticket with an email thread,
// or rows already queued: an acknowledgement, a composer send), ids only:
//
//   each round, one activity: queue the replies of the announced comments (once: the row's source key), then send
//     the organisation's due queued rows, several tickets at once, each ticket's rows in order, oldest first
//     (a 5xx fails the row for good and the ticket goes on; a 4xx or an unreachable server makes the ticket wait,
//     with `next_attempt_at` on the row, while the other tickets go on)
//   go again at once if the round left work, sleep until the earliest waiting ticket is due (at least a second, so
//     rounds never spin), or wait a while for more work and end (the next wake starts a new run)
//
// Temporal is paid per round, not per reply: the per-ticket `email-thread/<ticketId>` workflow this replaces ran
// three activities per reply in a workflow per ticket. It stays registered for its runs started before.
import { condition, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { OutboxActivities } from '../activities/email/outbox.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  type EmailOutboxInput,
  type EmailOutboxTicket,
  type EmailOutboxWork,
  outboxWorkSignal,
} from './email-contract.ts';

const { sendOutboxRound } = proxyActivities<OutboxActivities>({
  // The round starts no send after a minute, less when three times EMAIL_TIMEOUT_MS (the longest a send may take)
  // would not fit before this timeout (outbox-plan.ts roundBudgetMs). It heartbeats on a timer, so a dead worker is
  // noticed in two minutes; a retry that starts next to a slow first attempt sends nothing twice (each send claims
  // its row) and the first stops starting sends once it hears it was cancelled.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** How long an idle outbox stays to take the next reply without a new start. */
const IDLE_WAIT_MS = 10 * 60_000;
const ROUNDS_PER_RUN = 500;
/** Comments handed to one round; the rest wait for the next (the relay's batches are rarely larger). */
const COMMENTS_PER_ROUND = 500;
/** The shortest sleep before a round: a ticket due already (or in a moment) cannot make rounds spin. */
const MIN_SLEEP_MS = 1_000;
/** Comments whose replies could not be queued go to a later round this many times per ticket, then are given up. */
const QUEUE_ATTEMPTS = 5;

class Outbox {
  private pending: EmailOutboxTicket[];
  private nudged = true;
  /** Failed queueings per ticket (its comments handed back by a round), for QUEUE_ATTEMPTS. */
  private readonly queueFailures = new Map<string, number>();
  private readonly organizationId: string;
  constructor(input: EmailOutboxInput) {
    this.organizationId = input.organizationId;
    this.pending = (input.pending ?? []).map((t) => ({ ...t, commentIds: [...t.commentIds] }));
    setHandler(outboxWorkSignal, (work: EmailOutboxWork) => {
      for (const ticket of work.tickets) this.add(ticket);
      this.nudged = true;
    });
  }

  private add(ticket: EmailOutboxTicket): void {
    const known = this.pending.find((t) => t.ticketId === ticket.ticketId);
    if (!known) this.pending.push({ ticketId: ticket.ticketId, commentIds: [...ticket.commentIds] });
    else for (const id of ticket.commentIds) if (!known.commentIds.includes(id)) known.commentIds.push(id);
  }

  /**
   * The comments a round could not queue go back first in line for the next round, up to QUEUE_ATTEMPTS times per
   * ticket (then logged and given up). Answers how many tickets went back.
   */
  private handBack(unqueued: EmailOutboxTicket[]): number {
    let back = 0;
    for (const ticket of [...unqueued].reverse()) {
      const failures = (this.queueFailures.get(ticket.ticketId) ?? 0) + 1;
      if (failures > QUEUE_ATTEMPTS) {
        log.error('the replies of a ticket’s comments were given up after failed attempts to queue them', {
          ticketId: ticket.ticketId,
          commentIds: ticket.commentIds,
        });
        this.queueFailures.delete(ticket.ticketId);
        continue;
      }
      this.queueFailures.set(ticket.ticketId, failures);
      // Before any comment of the same ticket announced since: they were written after.
      const known = this.pending.findIndex((t) => t.ticketId === ticket.ticketId);
      const later = known >= 0 ? this.pending.splice(known, 1)[0]!.commentIds : [];
      this.pending.unshift({
        ticketId: ticket.ticketId,
        commentIds: [...ticket.commentIds, ...later.filter((id) => !ticket.commentIds.includes(id))],
      });
      back++;
    }
    return back;
  }

  /** Whole tickets, so a ticket's comments are never split across rounds out of order. */
  private take(): EmailOutboxTicket[] {
    const taken: EmailOutboxTicket[] = [];
    let comments = 0;
    while (this.pending.length > 0) {
      const next = this.pending[0]!;
      if (taken.length > 0 && comments + next.commentIds.length > COMMENTS_PER_ROUND) break;
      taken.push(next);
      comments += next.commentIds.length;
      this.pending.shift();
    }
    return taken;
  }

  async run(): Promise<void> {
    for (let round = 0; round < ROUNDS_PER_RUN && !workflowInfo().continueAsNewSuggested; round++) {
      // A wake that arrives while the round runs is kept: its rows may have been written after the round's query.
      this.nudged = false;
      const tickets = this.take();
      const result = await sendOutboxRound({ organizationId: this.organizationId, tickets });
      for (const { ticketId } of tickets)
        if (!result.unqueued.some((t) => t.ticketId === ticketId)) this.queueFailures.delete(ticketId);
      const handedBack = this.handBack(result.unqueued);
      if (result.more || this.nudged || this.pending.length > handedBack) continue;
      if (result.nextDueInMs === null && handedBack === 0) {
        if (await condition(() => this.nudged, IDLE_WAIT_MS)) continue;
        return;
      }
      // The database's delay (its clock decides due-ness, not this workflow's), floored; comments handed back are
      // tried again after the floor.
      const dueInMs = handedBack > 0 ? MIN_SLEEP_MS : (result.nextDueInMs ?? MIN_SLEEP_MS);
      await condition(() => this.nudged, Math.max(MIN_SLEEP_MS, dueInMs));
    }
    return continueAsNewWithHandlersDone<typeof emailOutboxWorkflow>(() => [
      { organizationId: this.organizationId, pending: this.pending },
    ]);
  }
}

export async function emailOutboxWorkflow(input: EmailOutboxInput): Promise<void> {
  return new Outbox(input).run();
}
