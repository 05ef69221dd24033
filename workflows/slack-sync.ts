// Ticket events to one Slack installation (`slack-sync/<integrationId>`): woken by the relay, once per relay batch,
// with the ids of every ticket's events that can change a message there.
//
//   keep the events in a queue, each ticket's in the order they happened
//   sync them in rounds, one at a time: one activity plans a round's tickets (workflows/slack-thread-plan.ts) and
//     posts or edits their messages, each conversation in order (activities/slack/sync.ts); what arrives meanwhile
//     waits for the next round, so a ticket's later events are planned against the messages its earlier ones posted
//   Slack says the bot is gone (uninstalled, token revoked): pause with that reason (each waiting ticket is
//     recorded, so the integrations page counts them), keep every event, and go on when the workspace is installed
//     again (a signal) or found connected (checked hourly)
//   wait a while for more work, then end (the next relay batch starts a new run)
//
// One workflow per installation, not per ticket: a new ticket must not cost a workflow (the SDK evaluates the
// bundle's modules for every workflow it creates; that was what ran out, specification/performance.md, Slack).
// What people do in Slack about a ticket stays with the ticket's own workflow (workflows/slack-ticket.ts).
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { SlackActivities } from '../activities/slack/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  SLACK_DISCONNECTED,
  type SlackSyncInput,
  type SlackTicketEvents,
  slackResumeSignal,
  slackSyncSignal,
} from './slack-contract.ts';

const db = proxyActivities<SlackActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

const rounds = proxyActivities<SlackActivities>({
  // A round's messages, each conversation in order: a channel's pace may add waits of a few seconds each.
  startToCloseTimeout: '5 minutes',
  // It reports after each message (at most a pace wait and two calls apart): a worker killed mid-round is noticed
  // within half a minute, not the round's whole limit (test/slack-kill.test.ts).
  heartbeatTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    nonRetryableErrorTypes: [SLACK_DISCONNECTED],
  },
});

/** Events per round: one activity's work, and its input in history, stay bounded however large the backlog. */
const ROUND_EVENTS = 200;
const IDLE_WAIT = '10 minutes';
const RECHECK_PAUSED_MS = 60 * 60 * 1000;
const ROUNDS_PER_RUN = 200;

function failureType(error: unknown): string | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

class SlackSync {
  private readonly input: SlackSyncInput;
  /** Each ticket's events not synced yet, in order; tickets in the order their first waiting event came. */
  private readonly queue = new Map<string, number[]>();
  private resumed = false;
  private rounds = 0;

  constructor(input: SlackSyncInput) {
    this.input = input;
    this.add(input.pending ?? []);
    setHandler(slackSyncSignal, (tickets: SlackTicketEvents[]) => this.add(tickets));
    setHandler(slackResumeSignal, () => {
      this.resumed = true;
    });
  }

  private get ref() {
    const { organizationId, integrationId } = this.input;
    return { organizationId, integrationId };
  }

  /** The relay may hand an event over again (its target must tolerate that): an event waiting already is not added. */
  private add(tickets: readonly SlackTicketEvents[]): void {
    for (const { ticketId, eventIds } of tickets) {
      const queued = this.queue.get(ticketId) ?? [];
      for (const id of eventIds) if (!queued.includes(id)) queued.push(id);
      if (queued.length > 0) this.queue.set(ticketId, queued);
    }
  }

  async run(): Promise<void> {
    for (;;) {
      while (this.queue.size > 0) {
        try {
          await this.round();
        } catch (error) {
          if (failureType(error) !== SLACK_DISCONNECTED) throw error;
          await this.waitUntilConnected();
        }
        if (this.rounds >= ROUNDS_PER_RUN || workflowInfo().continueAsNewSuggested) return this.continueAsNew();
      }
      if (!(await condition(() => this.queue.size > 0, IDLE_WAIT))) return;
    }
  }

  /** The oldest waiting events, up to a round's size: whole tickets first, a ticket's earliest events if it must. */
  private async round(): Promise<void> {
    this.rounds++;
    const round: SlackTicketEvents[] = [];
    let size = 0;
    for (const [ticketId, eventIds] of this.queue) {
      if (size >= ROUND_EVENTS) break;
      const taken = eventIds.slice(0, ROUND_EVENTS - size);
      round.push({ ticketId, eventIds: taken });
      size += taken.length;
    }
    await rounds.syncSlackTickets({ ...this.ref, tickets: round });
    for (const { ticketId, eventIds } of round) {
      const left = (this.queue.get(ticketId) ?? []).filter((id) => !eventIds.includes(id));
      if (left.length > 0) this.queue.set(ticketId, left);
      else this.queue.delete(ticketId);
    }
  }

  /** Every waiting ticket is recorded as paused, those that come meanwhile too; all of them go on together. */
  private async waitUntilConnected(): Promise<void> {
    const paused = new Set<string>();
    const unrecorded = () => [...this.queue.keys()].filter((ticketId) => !paused.has(ticketId));
    let recheckAt = Date.now() + RECHECK_PAUSED_MS;
    this.resumed = false;
    for (;;) {
      const fresh = unrecorded();
      if (fresh.length > 0) {
        await db.pauseSlackTickets({ ...this.ref, ticketIds: fresh });
        for (const ticketId of fresh) paused.add(ticketId);
      }
      await condition(() => this.resumed || unrecorded().length > 0, Math.max(1, recheckAt - Date.now()));
      if (!this.resumed && Date.now() < recheckAt) continue; // new tickets to record, not yet time to ask
      this.resumed = false;
      recheckAt = Date.now() + RECHECK_PAUSED_MS;
      if ((await db.slackConnection(this.ref)).connected) break;
      // A workspace away for months must not grow one history without end: the next run pauses again and waits on.
      if (workflowInfo().continueAsNewSuggested) return this.continueAsNew();
    }
    await db.resumeSlackTickets({ ...this.ref, ticketIds: [...paused] });
  }

  private continueAsNew(): Promise<never> {
    return continueAsNewWithHandlersDone<typeof slackSyncWorkflow>(() => [
      { ...this.ref, pending: [...this.queue].map(([ticketId, eventIds]) => ({ ticketId, eventIds })) },
    ]);
  }
}

export async function slackSyncWorkflow(input: SlackSyncInput): Promise<void> {
  return new SlackSync(input).run();
}
