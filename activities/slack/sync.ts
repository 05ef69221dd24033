// Tickets' events to Slack in one activity: plan each ticket (the pure planner), then deliver every message, each
// conversation in order and the conversations side by side. One activity per round of the installation's sync
// workflow (many tickets), not one per message nor one workflow per ticket: the `slack` worker's workflow thread,
// not Slack, was what ran out (specification/performance.md, issue 12). Every message is still posted once (its
// key), so a retried round repeats nothing that went through; tickets a failed attempt finished (its heartbeats say
// which) are not even planned again.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { groupBy } from '../../common/group-by.ts';
import {
  SLACK_REFUSED,
  type SlackInstallationRef,
  type SlackTicketEvents,
  type SlackTicketRef,
} from '../../workflows/slack-contract.ts';
import type { SlackOp } from '../../workflows/slack-thread-plan.ts';
import { type DeliverDeps, deliverSlackOp } from './deliver.ts';
import { planSlackTickets } from './threads.ts';

/** Which conversation an operation writes to: its order matters only within it. */
export function conversationOf(op: SlackOp): string {
  if (op.op === 'dm') return `dm:${op.userId}`;
  if (op.op === 'dm_parent') return `dm-parent:${op.slackUserId}`;
  return op.channelId;
}

/** Progress a retry starts from: the tickets whose messages all went through. */
type SyncProgress = { doneTicketIds: string[] };

function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // not inside an activity (a direct call): nothing to report to
  }
}

/** The slack-ticket workflow's batches (runs started before ticket events moved to the installation's workflow). */
export async function syncSlackEvents(deps: DeliverDeps, ref: SlackTicketRef & { eventIds: number[] }): Promise<void> {
  await syncSlackTickets(deps, { ...ref, tickets: [{ ticketId: ref.ticketId, eventIds: ref.eventIds }] });
}

export async function syncSlackTickets(
  deps: DeliverDeps,
  ref: SlackInstallationRef & { tickets: SlackTicketEvents[] },
): Promise<void> {
  const context = activityContext();
  const previous = context?.info.heartbeatDetails as SyncProgress | undefined;
  const done = new Set(previous?.doneTicketIds ?? []);
  const todo = ref.tickets.filter((t) => !done.has(t.ticketId));
  const planned = await planSlackTickets(deps, ref, todo);
  const remaining = new Map(planned.map((p) => [p.ticketId, p.ops.length]));
  for (const [ticketId, left] of remaining) if (left === 0) done.add(ticketId);
  const ops = planned.flatMap(({ ticketId, ops }) => ops.map((op) => ({ ticketId, op })));
  const results = await Promise.allSettled(
    [...groupBy(ops, ({ op }) => conversationOf(op)).values()].map(async (inOrder) => {
      for (const { ticketId, op } of inOrder) {
        await deliverSlackOp(deps, { ...ref, ticketId, op }).catch((error: unknown) => {
          // A message Slack refused for good is recorded (by the call) and skipped; the conversation goes on.
          if (!(error instanceof ApplicationFailure && error.type === SLACK_REFUSED)) throw error;
        });
        const left = remaining.get(ticketId)! - 1;
        remaining.set(ticketId, left);
        if (left === 0) done.add(ticketId);
        // Alive after each message: a worker that died mid-round hands it to the retry within the heartbeat
        // timeout, not the round's whole time limit; the retry skips the tickets finished so far.
        context?.heartbeat({ doneTicketIds: [...done] } satisfies SyncProgress);
      }
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
