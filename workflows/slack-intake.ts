// Something done in Slack that makes a new ticket (the `/ticket create` form, "Create ticket from message"): one
// short workflow per inbound row (`slack-intake/<inboundId>`, the idempotency key), so a double submit or a crash
// after the click makes one ticket. The ticket's own Slack messages then follow from its ticket.created event.
//
//   apply the row (as the person, through the domain), retrying for as long as it takes: the person was told it
//     was received, so it is not dropped; while the workspace is disconnected it waits, checking hourly
//   tell the person, best effort
import { ActivityFailure, ApplicationFailure, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { SlackActivities } from '../activities/slack/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  answerActivityOptions,
  type InboundOutcome,
  SLACK_DISCONNECTED,
  type SlackIntakeInput,
} from './slack-contract.ts';

const db = proxyActivities<SlackActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '5 minutes', nonRetryableErrorTypes: [SLACK_DISCONNECTED] },
});
const answer = proxyActivities<SlackActivities>(answerActivityOptions);

function isDisconnected(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure && cause.type === SLACK_DISCONNECTED;
}

export async function slackIntakeWorkflow(input: SlackIntakeInput): Promise<void> {
  let outcome: InboundOutcome;
  for (;;) {
    try {
      outcome = await db.applySlackInbound({ ...input, ticketId: null });
      break;
    } catch (error) {
      if (!isDisconnected(error)) throw error;
      // Waits for the workspace as a paused ticket does: checked hourly (auth.test where a call was refused), and a
      // wait of months goes on in a new run rather than one history without end.
      do {
        await sleep('1 hour');
        if (workflowInfo().continueAsNewSuggested)
          return continueAsNewWithHandlersDone<typeof slackIntakeWorkflow>(() => [input]);
      } while (
        !(await db.slackConnection({ organizationId: input.organizationId, integrationId: input.integrationId }))
          .connected
      );
    }
  }
  if (outcome.respond)
    await answer.respondToSlack({ ...input, ticketId: null }).catch((error: unknown) => {
      if (!(error instanceof ActivityFailure)) throw error;
    });
}
