// A workspace installed again: the Slack work that paused while it was disconnected is told to go on — the
// installation's sync workflow (ticket events) and every paused ticket's own workflow (things done in Slack). A
// signal that fails (Temporal briefly unreachable) is not lost work: each paused workflow also checks the workspace
// by itself every hour. A workflow that is not running (nothing of that kind paused) is nothing to resume.
import { WorkflowNotFoundError } from '@temporalio/client';
import { slackResumeSignal, slackSyncWorkflowId, slackTicketWorkflowId } from '../../workflows/slack-contract.ts';
import type { SlackDeps } from './deps.ts';
import { pausedThreadsOf } from './installations.ts';

export async function resumeWorkspace(deps: SlackDeps, integrationId: string): Promise<number> {
  const temporal = deps.temporal;
  if (!temporal) return 0;
  const paused = await pausedThreadsOf(deps, integrationId);
  if (paused.length === 0) return 0;
  const resume = async (workflowId: string, ticketId?: string): Promise<boolean> => {
    try {
      await temporal.workflow.getHandle(workflowId).signal(slackResumeSignal);
      return true;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError))
        deps.logger.warn({ err: error, integrationId, ticketId }, 'paused Slack work not resumed');
      return false;
    }
  };
  await resume(slackSyncWorkflowId(integrationId));
  let resumed = 0;
  for (const thread of paused)
    if (await resume(slackTicketWorkflowId(integrationId, thread.ticketId), thread.ticketId)) resumed++;
  return resumed;
}
