// A workspace installed again: every ticket whose Slack work paused while it was disconnected is told to go on.
// A signal that fails (Temporal briefly unreachable) is not lost work: each paused workflow also checks the
// workspace by itself every hour.
import { slackResumeSignal, slackTicketWorkflowId } from '../../workflows/slack-contract.ts';
import type { SlackDeps } from './deps.ts';
import { pausedThreadsOf } from './installations.ts';

export async function resumeWorkspace(deps: SlackDeps, integrationId: string): Promise<number> {
  if (!deps.temporal) return 0;
  const paused = await pausedThreadsOf(deps, integrationId);
  let resumed = 0;
  for (const thread of paused) {
    try {
      await deps.temporal.workflow
        .getHandle(slackTicketWorkflowId(integrationId, thread.ticketId))
        .signal(slackResumeSignal);
      resumed++;
    } catch (error) {
      deps.logger.warn({ err: error, integrationId, ticketId: thread.ticketId }, 'paused Slack thread not resumed');
    }
  }
  return resumed;
}
