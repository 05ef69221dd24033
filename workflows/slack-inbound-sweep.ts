// The Slack inbound sweep, run by the schedule `slack-inbound-sweep/<queue>` (packages/integrations/slack/server.ts):
// one activity that hands over again what people did in Slack whose request answered Slack but could not reach its
// workflow (domain/slack/inbound.ts, handOverWaitingInbound).
import { proxyActivities } from '@temporalio/workflow';
import type { SlackActivities } from '../activities/slack/index.ts';

const { handOverWaitingSlackInbound } = proxyActivities<SlackActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3 },
});

export async function slackInboundSweepWorkflow(): Promise<{ handedOver: number; failed: number }> {
  return handOverWaitingSlackInbound();
}
