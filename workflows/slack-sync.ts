// Ticket events to one Slack installation (`slack-sync/<integrationId>`): woken by the relay, once per relay batch,
// with the ids of every ticket's events that can change a message there.
//
//   keep the events in a queue, each ticket's in the order they happened
//   sync them in rounds: one activity plans a round's tickets (workflows/slack-thread-plan.ts) and posts or edits
//     their messages, each conversation in order (activities/slack/sync.ts). A few rounds run side by side, never
//     two with the same ticket: a ticket's later events wait for its round, so they are planned against the messages
//     its earlier ones posted, and one channel waiting for Slack's pace does not hold the other channels
//   a round answers which of its tickets did not go out (Slack failed one of their messages, or asked to wait): each
//     is set aside with its own retry time (Slack's wait, or a backoff growing to 10 minutes) and the other tickets
//     go on. A round that fails as a whole (the database) is retried a few times, then its unfinished tickets are set
//     aside the same way: no ticket, and no failure, holds the installation
//   Slack says the bot is gone (uninstalled, token revoked): pause with that reason (each waiting ticket is
//     recorded, so the integrations page counts them), keep each ticket's first and latest events, and go on when
//     the workspace is installed again (a signal) or found connected (checked hourly)
//   continue as new after a few hundred rounds or when Temporal suggests it, paused or not, carrying the queue, the
//     tickets set aside and the pause
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
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { SlackActivities } from '../activities/slack/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  SLACK_DISCONNECTED,
  type SlackRoundProgress,
  type SlackRoundResult,
  type SlackSetAside,
  type SlackSyncInput,
  type SlackTicketEvents,
  slackResumeSignal,
  slackSyncSignal,
  slackSyncStateQuery,
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
  // Slack's failures come back per ticket (the round succeeds); what fails a whole round is the database or a bug:
  // a few tries, then its tickets are set aside one by one, so a round that cannot succeed holds nobody.
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 5,
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
/** Also without Temporal's suggestion (a server configured without it), a run's history stays well under its limit. */
const HISTORY_EVENTS_PER_RUN = 10_000;
/** A ticket set aside after a failure waits 2 s, then twice as long each time, up to 10 minutes. */
const SET_ASIDE_FIRST_MS = 2_000;
const SET_ASIDE_MAX_MS = 10 * 60 * 1000;
/**
 * While disconnected, a ticket keeps its first waiting event (its ticket.created, if it is new) and its latest: a
 * workspace away for weeks must not grow the queue carried from run to run without end. The parent is edited to the
 * ticket as it is then anyway; what is dropped is thread notes of the middle of a long outage.
 */
const EVENTS_PER_TICKET_WHILE_DISCONNECTED = 20;
/** Tickets per pause/resume step: each step's input in history stays bounded. */
const PAUSE_CHUNK = 500;

function causeOf(error: unknown): unknown {
  return error instanceof ActivityFailure ? error.cause : error;
}

function failureType(error: unknown): string | undefined {
  const cause = causeOf(error);
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** The tickets a failed round finished: its failure's details, or (a worker that died) its last heartbeat's. */
function finishedIn(error: unknown): string[] {
  const cause = causeOf(error);
  const progress =
    cause instanceof ApplicationFailure
      ? cause.details?.[0]
      : cause instanceof TimeoutFailure
        ? cause.lastHeartbeatDetails
        : undefined;
  const ids = (progress as Partial<SlackRoundProgress> | undefined)?.doneTicketIds;
  return Array.isArray(ids) ? ids : [];
}

function reasonOf(error: unknown): string {
  const cause = causeOf(error);
  const message = cause instanceof Error ? cause.message : String(cause);
  return message.slice(0, 500);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

class SlackSync {
  private readonly input: SlackSyncInput;
  /** Each ticket's events not synced yet, in order (a Set keeps insertion order); tickets in order of arrival. */
  private readonly queue = new Map<string, Set<number>>();
  /** Queued tickets that may go into the next round: not in a running one, not set aside. */
  private readonly ready = new Set<string>();
  /** Tickets in a running round: their later events wait for it, so each ticket's messages keep their order. */
  private readonly busy = new Set<string>();
  /** Tickets whose last round failed, until their due time (they may be queued or, briefly, in a round). */
  private readonly setAside = new Map<string, SlackSetAside>();
  private inFlight = 0;
  /** Bumped when a round ends, to wake the loop. */
  private settled = 0;
  private disconnected = false;
  /** Set by the resume signal, cleared only once a check of the workspace has used it. */
  private resumed = false;
  /** While disconnected: tickets recorded as paused, and those still to record. */
  private readonly recorded = new Set<string>();
  private readonly unrecorded = new Set<string>();
  private recheckAt = 0;
  private rounds = 0;
  /** Whether this run has done anything: a run that only continued as new would loop on Temporal's suggestion. */
  private worked = false;

  constructor(input: SlackSyncInput) {
    this.input = input;
    for (const entry of input.setAside ?? []) this.setAside.set(entry.ticketId, entry);
    if (input.paused) {
      this.disconnected = true;
      this.recheckAt = input.paused.recheckAt;
    }
    this.add(input.pending ?? []);
    for (const ticketId of this.unrecorded) this.recorded.add(ticketId);
    this.unrecorded.clear();
    setHandler(slackSyncSignal, (tickets: SlackTicketEvents[]) => {
      this.worked = true;
      this.add(tickets);
    });
    setHandler(slackResumeSignal, () => {
      this.resumed = true;
    });
    setHandler(slackSyncStateQuery, () => ({
      tickets: this.queue.size,
      events: [...this.queue.values()].reduce((n, ids) => n + ids.size, 0),
      inRounds: this.inFlight,
      disconnected: this.disconnected,
      setAside: [...this.setAside.values()],
    }));
  }

  private get ref() {
    const { organizationId, integrationId } = this.input;
    return { organizationId, integrationId };
  }

  /** The relay may hand an event over again (its target must tolerate that): an event waiting already is not added. */
  private add(tickets: readonly SlackTicketEvents[]): void {
    for (const { ticketId, eventIds } of tickets) {
      if (eventIds.length === 0) continue;
      let queued = this.queue.get(ticketId);
      if (!queued) {
        queued = new Set();
        this.queue.set(ticketId, queued);
        if (!this.busy.has(ticketId) && !this.setAside.has(ticketId)) this.ready.add(ticketId);
        if (this.disconnected && !this.recorded.has(ticketId)) this.unrecorded.add(ticketId);
      }
      for (const id of eventIds) queued.add(id);
      if (this.disconnected) this.trim(ticketId);
    }
  }

  /** While disconnected: the ticket's first waiting event and its latest (EVENTS_PER_TICKET_WHILE_DISCONNECTED). */
  private trim(ticketId: string): void {
    const queued = this.queue.get(ticketId);
    if (!queued || queued.size <= EVENTS_PER_TICKET_WHILE_DISCONNECTED) return;
    const ids = [...queued];
    this.queue.set(ticketId, new Set([ids[0]!, ...ids.slice(-(EVENTS_PER_TICKET_WHILE_DISCONNECTED - 1))]));
  }

  async run(): Promise<void> {
    for (;;) {
      this.readyDue();
      while (this.canStart()) this.startRound();
      if (this.inFlight === 0) {
        if (this.disconnected) {
          await this.waitUntilConnected();
          continue;
        }
        if (this.draining()) return this.continueAsNew();
        if (this.queue.size === 0) {
          if (!(await condition(() => this.queue.size > 0, IDLE_WAIT))) return;
          continue;
        }
      }
      // A round ends, a ticket becomes ready (new events), one set aside comes due, or it is time for the next run.
      const settled = this.settled;
      const due = this.nextDue();
      const woken = () =>
        this.settled !== settled || this.canStart() || (this.inFlight === 0 && (this.disconnected || this.draining()));
      if (due === undefined) await condition(woken);
      else await condition(woken, Math.max(1, due - Date.now()));
    }
  }

  /** Time for the next run: no new round starts, the running ones finish, then it continues as new. */
  private draining(): boolean {
    if (!this.worked) return false;
    const info = workflowInfo();
    return (
      this.rounds >= (this.input.limits?.roundsPerRun ?? ROUNDS_PER_RUN) ||
      info.historyLength >= (this.input.limits?.historyEventsPerRun ?? HISTORY_EVENTS_PER_RUN) ||
      info.continueAsNewSuggested
    );
  }

  private canStart(): boolean {
    return !this.disconnected && this.inFlight < ROUNDS_AT_ONCE && this.ready.size > 0 && !this.draining();
  }

  /** Tickets set aside whose time has come are ready again (if they still have events). */
  private readyDue(): void {
    const now = Date.now();
    for (const [ticketId, entry] of this.setAside)
      if (entry.dueAt <= now && !this.busy.has(ticketId) && this.queue.has(ticketId) && !this.ready.has(ticketId)) {
        // It stays in setAside (its attempts count) until a round finishes it; only its wait is over.
        entry.dueAt = now;
        this.ready.add(ticketId);
      }
  }

  /** The earliest due time of a queued ticket set aside and still waiting. */
  private nextDue(): number | undefined {
    let due: number | undefined;
    for (const [ticketId, entry] of this.setAside)
      if (!this.ready.has(ticketId) && !this.busy.has(ticketId) && this.queue.has(ticketId))
        due = due === undefined ? entry.dueAt : Math.min(due, entry.dueAt);
    return due;
  }

  /**
   * The oldest waiting events of ready tickets, up to a round's size (a ticket's earliest events if it must).
   * Rounds run side by side, so one channel's pace wait does not hold every other channel's messages.
   */
  private startRound(): void {
    this.worked = true;
    this.rounds++;
    this.inFlight++;
    const round: SlackTicketEvents[] = [];
    let size = 0;
    for (const ticketId of this.ready) {
      if (size >= ROUND_EVENTS) break;
      const eventIds = [...(this.queue.get(ticketId) ?? [])].slice(0, ROUND_EVENTS - size);
      round.push({ ticketId, eventIds });
      size += eventIds.length;
    }
    for (const { ticketId } of round) {
      this.ready.delete(ticketId);
      this.busy.add(ticketId);
    }
    syncing
      .syncSlackTickets({ ...this.ref, tickets: round })
      .then(
        (result: SlackRoundResult) => {
          const setBack = new Map(result.setBack.map((s) => [s.ticketId, s]));
          for (const events of round) {
            const failed = setBack.get(events.ticketId);
            if (failed) this.setBack(events.ticketId, failed.reason, failed.retryAfterMs);
            else this.finished(events);
          }
        },
        (error: unknown) => {
          const finished = new Set(finishedIn(error));
          for (const events of round) if (finished.has(events.ticketId)) this.finished(events);
          // Disconnected: the round's other events wait for the workspace, nothing is set aside.
          if (failureType(error) === SLACK_DISCONNECTED) this.disconnected = true;
          else
            for (const { ticketId } of round)
              if (!finished.has(ticketId)) this.setBack(ticketId, `the sync round failed: ${reasonOf(error)}`);
        },
      )
      .finally(() => {
        for (const { ticketId } of round) {
          this.busy.delete(ticketId);
          if (this.queue.has(ticketId) && !this.setAside.has(ticketId)) this.ready.add(ticketId);
          if (this.disconnected) this.trim(ticketId);
        }
        this.inFlight--;
        this.settled++;
      });
  }

  /** A ticket's round went through: its events are done, and a failure it had is over. */
  private finished({ ticketId, eventIds }: SlackTicketEvents): void {
    this.setAside.delete(ticketId);
    const queued = this.queue.get(ticketId);
    if (!queued) return;
    for (const id of eventIds) queued.delete(id);
    if (queued.size === 0) {
      this.queue.delete(ticketId);
      this.ready.delete(ticketId);
    }
  }

  /** The ticket waits on its own: Slack's wait if it asked for one, else a backoff growing with each failure. */
  private setBack(ticketId: string, reason: string, retryAfterMs?: number): void {
    const previous = this.setAside.get(ticketId);
    const attempts = retryAfterMs === undefined ? (previous?.attempts ?? 0) + 1 : (previous?.attempts ?? 0);
    const backoff = attempts === 0 ? 0 : Math.min(SET_ASIDE_MAX_MS, SET_ASIDE_FIRST_MS * 2 ** (attempts - 1));
    const wait = Math.max(backoff, retryAfterMs ?? 0);
    this.setAside.set(ticketId, { ticketId, attempts, dueAt: Date.now() + wait, reason });
  }

  /**
   * Every waiting ticket is recorded as paused, those that come meanwhile too; all of them go on together. Wakes
   * for new tickets, the resume signal, the hourly check, and for the next run (each signal adds to its history).
   */
  private async waitUntilConnected(): Promise<void> {
    if (this.recheckAt === 0) this.recheckAt = Date.now() + RECHECK_PAUSED_MS;
    for (const ticketId of this.queue.keys()) {
      this.trim(ticketId);
      if (!this.recorded.has(ticketId)) this.unrecorded.add(ticketId);
    }
    for (;;) {
      if (this.unrecorded.size > 0) {
        const fresh = [...this.unrecorded];
        for (const ticketIds of chunks(fresh, PAUSE_CHUNK)) await db.pauseSlackTickets({ ...this.ref, ticketIds });
        for (const ticketId of fresh) {
          this.unrecorded.delete(ticketId);
          this.recorded.add(ticketId);
        }
        continue; // more may have come while recording
      }
      if (this.draining()) return this.continueAsNew();
      const recheckIn = Math.max(1, this.recheckAt - Date.now());
      await condition(() => this.resumed || this.unrecorded.size > 0 || this.draining(), recheckIn);
      if (!this.resumed && Date.now() < this.recheckAt) continue; // new tickets to record, or the next run
      this.resumed = false;
      this.recheckAt = Date.now() + RECHECK_PAUSED_MS;
      if ((await db.slackConnection(this.ref)).connected) break;
    }
    for (const ticketIds of chunks([...this.recorded], PAUSE_CHUNK))
      await db.resumeSlackTickets({ ...this.ref, ticketIds });
    this.recorded.clear();
    this.recheckAt = 0;
    this.disconnected = false;
  }

  private continueAsNew(): Promise<never> {
    return continueAsNewWithHandlersDone<typeof slackSyncWorkflow>(() => {
      const next: SlackSyncInput = {
        ...this.ref,
        pending: [...this.queue].map(([ticketId, eventIds]) => ({ ticketId, eventIds: [...eventIds] })),
      };
      const setAside = [...this.setAside.values()].filter((entry) => this.queue.has(entry.ticketId));
      if (setAside.length > 0) next.setAside = setAside;
      if (this.disconnected) next.paused = { recheckAt: this.recheckAt };
      if (this.input.limits) next.limits = this.input.limits;
      return [next];
    });
  }
}

export async function slackSyncWorkflow(input: SlackSyncInput): Promise<void> {
  return new SlackSync(input).run();
}
