// Ticket events to one Slack installation (`slack-sync/<integrationId>`): woken by the relay, once per relay batch,
// with the ids of every ticket's events that can change a message there.
//
//   keep the events in a queue, each ticket's in the order they happened
//   sync them in rounds: one activity plans a round's tickets (workflows/slack-thread-plan.ts) and posts or edits
//     their messages, each conversation in order (activities/slack/sync.ts). A few rounds run side by side, never
//     two with the same ticket: a ticket's later events wait for its round, so they are planned against the messages
//     its earlier ones posted, and one channel waiting for Slack's pace does not hold the other channels
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

const syncing = proxyActivities<SlackActivities>({
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
/** Rounds of disjoint tickets running side by side (each ticket is in at most one). */
const ROUNDS_AT_ONCE = 4;
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
  /** Tickets in a running round: their later events wait for it, so each ticket's messages keep their order. */
  private readonly busy = new Set<string>();
  private inFlight = 0;
  /** Bumped when a round ends, to wake the loop. */
  private settled = 0;
  private disconnected = false;
  private failure: unknown;
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
      while (this.canStart()) this.startRound();
      if (this.inFlight === 0) {
        if (this.failure !== undefined) throw this.failure;
        if (this.disconnected) {
          await this.waitUntilConnected();
          continue;
        }
        if (this.draining()) return this.continueAsNew();
        if (this.queue.size === 0 && !(await condition(() => this.queue.size > 0, IDLE_WAIT))) return;
        continue;
      }
      const settled = this.settled;
      await condition(() => this.settled !== settled || this.canStart());
    }
  }

  /** Time for the next run: no new round starts, the running ones finish, then it continues as new. */
  private draining(): boolean {
    return this.rounds >= ROUNDS_PER_RUN || workflowInfo().continueAsNewSuggested;
  }

  private canStart(): boolean {
    if (this.failure !== undefined || this.disconnected || this.draining()) return false;
    if (this.inFlight >= ROUNDS_AT_ONCE) return false;
    for (const ticketId of this.queue.keys()) if (!this.busy.has(ticketId)) return true;
    return false;
  }

  /**
   * The oldest waiting events of tickets not in a running round, up to a round's size (a ticket's earliest events
   * if it must). Rounds run side by side, so one channel's pace wait does not hold every other channel's messages.
   */
  private startRound(): void {
    this.rounds++;
    this.inFlight++;
    const round: SlackTicketEvents[] = [];
    let size = 0;
    for (const [ticketId, eventIds] of this.queue) {
      if (size >= ROUND_EVENTS) break;
      if (this.busy.has(ticketId)) continue;
      const taken = eventIds.slice(0, ROUND_EVENTS - size);
      round.push({ ticketId, eventIds: taken });
      this.busy.add(ticketId);
      size += taken.length;
    }
    syncing
      .syncSlackTickets({ ...this.ref, tickets: round })
      .then(
        () => {
          for (const { ticketId, eventIds } of round) {
            const left = (this.queue.get(ticketId) ?? []).filter((id) => !eventIds.includes(id));
            if (left.length > 0) this.queue.set(ticketId, left);
            else this.queue.delete(ticketId);
          }
        },
        (error: unknown) => {
          // The round's events stay queued: they go out once the workspace is back (or the failure ends the run).
          if (failureType(error) === SLACK_DISCONNECTED) this.disconnected = true;
          else this.failure ??= error;
        },
      )
      .finally(() => {
        for (const { ticketId } of round) this.busy.delete(ticketId);
        this.inFlight--;
        this.settled++;
      });
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
    this.disconnected = false;
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
