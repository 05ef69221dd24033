// The outbound mail of one organisation (`email-outbox/<organizationId>`), for all its mailboxes, woken by the relay
// with the tickets of a batch that have mail to send (an agent's public comments on a ticket with an email thread,
// or rows already queued: an acknowledgement, a composer send), ids only:
//
//   each round, one activity: queue the replies of the announced comments (once: the row's source key), then send
//     the organisation's due queued rows, several tickets at once, each ticket's rows in order, oldest first
//     (a 5xx fails the row for good and the ticket goes on; a 4xx or an unreachable server makes the ticket wait,
//     with `next_attempt_at` on the row, while the other tickets go on)
//   go again at once if the round left work, sleep until the earliest waiting row is due, or wait a while for more
//     work and end (the next wake starts a new run)
//
// Temporal is paid per round, not per reply: the per-ticket `email-thread/<ticketId>` workflow this replaces ran
// three activities per reply in a workflow per ticket. It stays registered for its runs started before.
import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { OutboxActivities } from '../activities/email/outbox.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  type EmailOutboxInput,
  type EmailOutboxTicket,
  type EmailOutboxWork,
  outboxWorkSignal,
} from './email-contract.ts';

const { sendOutboxRound } = proxyActivities<OutboxActivities>({
  // The round starts no send after a minute (ROUND_BUDGET_MS); a send under way is bounded by the transport's own
  // timeouts. Heartbeats after each send notice a dead worker sooner; the retry re-checks every row is still queued.
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** How long an idle outbox stays to take the next reply without a new start. */
const IDLE_WAIT_MS = 10 * 60_000;
const ROUNDS_PER_RUN = 500;
/** Comments handed to one round; the rest wait for the next (the relay's batches are rarely larger). */
const COMMENTS_PER_ROUND = 500;

class Outbox {
  private pending: EmailOutboxTicket[];
  private nudged = true;
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
      const result = await sendOutboxRound({ organizationId: this.organizationId, tickets: this.take() });
      if (result.more || this.nudged || this.pending.length > 0) continue;
      if (result.nextDueAt === null) {
        if (await condition(() => this.nudged, IDLE_WAIT_MS)) continue;
        return;
      }
      const wait = result.nextDueAt - Date.now();
      if (wait > 0) await condition(() => this.nudged, wait);
    }
    return continueAsNewWithHandlersDone<typeof emailOutboxWorkflow>(() => [
      { organizationId: this.organizationId, pending: this.pending },
    ]);
  }
}

export async function emailOutboxWorkflow(input: EmailOutboxInput): Promise<void> {
  return new Outbox(input).run();
}
