// Something done in Slack that makes a new ticket (the `/ticket create` form, "Create ticket from message"): one
// short workflow per inbound row (`slack-intake/<inboundId>`, the idempotency key), so a double submit or a crash
// after the click makes one ticket. The ticket's own Slack messages then follow from its ticket.created event.
import { proxyActivities } from '@temporalio/workflow';
import type { SlackActivities } from '../activities/slack/index.ts';
import { SLACK_DISCONNECTED, SLACK_REFUSED, type SlackIntakeInput } from './slack-contract.ts';

const db = proxyActivities<SlackActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 20 },
});
const slack = proxyActivities<SlackActivities>({
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    maximumInterval: '1 minute',
    maximumAttempts: 10,
    nonRetryableErrorTypes: [SLACK_DISCONNECTED, SLACK_REFUSED],
  },
});

export async function slackIntakeWorkflow(input: SlackIntakeInput): Promise<void> {
  const outcome = await db.applySlackInbound({ ...input, ticketId: null });
  if (outcome.respond) await slack.respondToSlack({ ...input, ticketId: null });
}
