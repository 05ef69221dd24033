// A batch of a ticket's events to Slack in one activity: plan (the pure planner), then deliver every message, each
// conversation in order and the conversations side by side. One activity per batch instead of one per message: the
// `slack` worker's workflow thread, not Slack, was what ran out (specification/performance.md, issue 12). Every
// message is still posted once (its key), so a retried batch repeats nothing that went through.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { groupBy } from '../../common/group-by.ts';
import { SLACK_REFUSED, type SlackTicketRef } from '../../workflows/slack-contract.ts';
import type { SlackOp } from '../../workflows/slack-thread-plan.ts';
import { type DeliverDeps, deliverSlackOp } from './deliver.ts';
import { planSlackOpsActivity } from './threads.ts';

/** Which conversation an operation writes to: its order matters only within it. */
export function conversationOf(op: SlackOp): string {
  if (op.op === 'dm') return `dm:${op.userId}`;
  if (op.op === 'dm_parent') return `dm-parent:${op.slackUserId}`;
  return op.channelId;
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Not inside an activity (a direct call): nothing to report to.
  }
}

export async function syncSlackEvents(deps: DeliverDeps, ref: SlackTicketRef & { eventIds: number[] }): Promise<void> {
  const ops = await planSlackOpsActivity(deps, ref);
  const results = await Promise.allSettled(
    [...groupBy(ops, conversationOf).values()].map(async (inOrder) => {
      for (const op of inOrder) {
        await deliverSlackOp(deps, { ...ref, op }).catch((error: unknown) => {
          // A message Slack refused for good is recorded (by the call) and skipped; the conversation goes on.
          if (!(error instanceof ApplicationFailure && error.type === SLACK_REFUSED)) throw error;
        });
        // Alive after each message: a worker that died mid-batch hands it to the retry within the heartbeat
        // timeout, not the batch's whole time limit.
        heartbeat();
      }
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
