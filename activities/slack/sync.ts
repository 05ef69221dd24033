// Tickets' events to Slack in one activity: plan each ticket (the pure planner), then deliver every message, each
// conversation in order and the conversations side by side. One activity per round of the installation's sync
// workflow (many tickets), not one per message nor one workflow per ticket: the `slack` worker's workflow thread,
// not Slack, was what ran out (specification/performance.md, issue 12). Every message is still posted once (its
// key), so a retried round repeats nothing that went through; tickets a failed attempt finished (its heartbeats and
// its failure's details say which) are not even planned again.
//
// A ticket is a round's unit of failure: Slack failing one of its messages (a read-only channel, a 5xx, its pace)
// sets that ticket back, answered to the workflow, which retries it on its own; the round's other tickets go on and
// the round succeeds. Only what fails every ticket (the database, a bug) fails the round, and a disconnected
// workspace fails it with the tickets it finished.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { groupBy } from '../../common/group-by.ts';
import { recordIntegrationOutcome } from '../../domain/integrations/record-outcome.ts';
import {
  SLACK_DISCONNECTED,
  SLACK_REFUSED,
  type SlackInstallationRef,
  type SlackRoundProgress,
  type SlackRoundResult,
  type SlackTicketEvents,
  type SlackTicketRef,
  type SlackTicketSetback,
} from '../../workflows/slack-contract.ts';
import type { SlackOp } from '../../workflows/slack-thread-plan.ts';
import { type DeliverDeps, deliverSlackOp } from './deliver.ts';
import { signalSlackSync } from './relay-subscriber.ts';
import { planSlackTickets } from './threads.ts';

/** Which conversation an operation writes to: its order matters only within it. */
export function conversationOf(op: SlackOp): string {
  if (op.op === 'dm') return `dm:${op.userId}`;
  if (op.op === 'dm_parent') return `dm-parent:${op.slackUserId}`;
  return op.channelId;
}

function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // not inside an activity (a direct call): nothing to report to
  }
}

/**
 * The slack-ticket workflow's batches (runs started before ticket events moved to the installation's workflow):
 * handed to the installation's sync workflow, so that one writer posts a ticket's messages there (two could each
 * post a channel's parent); written here only where there is no Temporal client (a direct call).
 */
export async function syncSlackEvents(deps: DeliverDeps, ref: SlackTicketRef & { eventIds: number[] }): Promise<void> {
  const tickets = [{ ticketId: ref.ticketId, eventIds: ref.eventIds }];
  if (deps.temporal) {
    await signalSlackSync(deps.temporal, deps.ticketsTaskQueue, ref, tickets);
    return;
  }
  const { setBack } = await syncSlackTickets(deps, { ...ref, tickets });
  if (setBack[0]) throw ApplicationFailure.retryable(setBack[0].reason, 'SlackTicketSetBack');
}

export async function syncSlackTickets(
  deps: DeliverDeps,
  ref: SlackInstallationRef & { tickets: SlackTicketEvents[] },
): Promise<SlackRoundResult> {
  const context = activityContext();
  const previous = context?.info.heartbeatDetails as SlackRoundProgress | undefined;
  const done = new Set(previous?.doneTicketIds ?? []);
  const progress = (): SlackRoundProgress => ({ doneTicketIds: [...done] });
  try {
    const todo = ref.tickets.filter((t) => !done.has(t.ticketId));
    const planned = await planSlackTickets(deps, ref, todo);
    const remaining = new Map(planned.map((p) => [p.ticketId, p.ops.length]));
    for (const [ticketId, left] of remaining) if (left === 0) done.add(ticketId);
    const setBack = new Map<string, SlackTicketSetback>();
    let disconnected: ApplicationFailure | undefined;
    const ops = planned.flatMap(({ ticketId, ops }) => ops.map((op) => ({ ticketId, op })));
    const results = await Promise.allSettled(
      [...groupBy(ops, ({ op }) => conversationOf(op)).values()].map(async (inOrder) => {
        for (const [i, { ticketId, op }] of inOrder.entries()) {
          if (disconnected) return;
          // A ticket set back keeps its later messages: they go with it, in order, when it is retried.
          if (setBack.has(ticketId)) continue;
          try {
            await deliverSlackOp(deps, { ...ref, ticketId, op });
          } catch (error) {
            // The database, a bug: not one ticket's, the round fails (and is retried from its progress).
            if (!(error instanceof ApplicationFailure)) throw error;
            if (error.type === SLACK_DISCONNECTED) {
              disconnected ??= error;
              return;
            }
            // A message Slack refused for good is recorded (by the call) and skipped; the conversation goes on.
            if (error.type !== SLACK_REFUSED) {
              const retryAfterMs = typeof error.nextRetryDelay === 'number' ? error.nextRetryDelay : undefined;
              if (retryAfterMs === undefined) {
                setBack.set(ticketId, { ticketId, reason: error.message });
                continue;
              }
              // Slack asked this conversation to wait (its pace, a 429): its later messages wait as long.
              for (const later of inOrder.slice(i))
                if (!setBack.has(later.ticketId))
                  setBack.set(later.ticketId, { ticketId: later.ticketId, reason: error.message, retryAfterMs });
              return;
            }
          }
          const left = remaining.get(ticketId)! - 1;
          remaining.set(ticketId, left);
          if (left === 0) done.add(ticketId);
          // Alive after each message: a worker that died mid-round hands it to the retry within the heartbeat
          // timeout, not the round's whole time limit; the retry skips the tickets finished so far.
          context?.heartbeat(progress());
        }
      }),
    );
    if (disconnected)
      throw ApplicationFailure.create({
        message: disconnected.message,
        type: SLACK_DISCONNECTED,
        nonRetryable: true,
        details: [progress()],
      });
    const broken = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (broken) throw broken.reason;
    await recordSetbacks(deps, ref, [...setBack.values()]);
    return { setBack: [...setBack.values()] };
  } catch (error) {
    throw withProgress(error, progress());
  }
}

/**
 * A failed round says which tickets it finished (its details), so the workflow takes their events off even when no
 * retry follows (a disconnected workspace, the last attempt); the failure's own kind is kept.
 */
function withProgress(error: unknown, progress: SlackRoundProgress): ApplicationFailure {
  if (error instanceof ApplicationFailure && error.details?.length) return error;
  const failure = error instanceof ApplicationFailure ? error : undefined;
  return ApplicationFailure.create({
    message: error instanceof Error ? error.message : String(error),
    type: failure?.type ?? 'SlackRoundFailed',
    nonRetryable: failure?.nonRetryable ?? false,
    nextRetryDelay: failure?.nextRetryDelay ?? undefined,
    details: [progress],
  });
}

/**
 * Why tickets wait, on the integration's last error (the integrations page shows it), once per reason: a failure an
 * admin may have to fix (a read-only channel) or just see (Slack answering 5xx). A wait Slack asked for is no error.
 */
async function recordSetbacks(
  deps: DeliverDeps,
  ref: SlackInstallationRef,
  setBack: readonly SlackTicketSetback[],
): Promise<void> {
  const reasons = new Set(setBack.filter((s) => s.retryAfterMs === undefined).map((s) => s.reason));
  for (const reason of reasons)
    await recordIntegrationOutcome(deps.db, ref.organizationId, ref.integrationId, {
      ok: false,
      error: `${reason} (the ticket's Slack messages are retried later)`,
    });
}
