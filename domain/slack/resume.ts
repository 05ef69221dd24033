// A workspace installed again: the Slack work that paused while it was disconnected is told to go on — the
// installation's sync workflow (ticket events) and the paused tickets' own workflows that are running (things done
// in Slack, and event batches of runs from before the sync workflow). A signal that fails (Temporal briefly
// unreachable) is not lost work: each paused workflow also checks the workspace by itself every hour. A workflow that
// is not running is nothing to resume.
//
// Called from the install's return (Slack's OAuth callback): bounded. The ticket workflows are found with one
// visibility query (running slack-ticket runs of the organisation) rather than one signal per paused ticket, most of
// which are the sync workflow's, and signalled a few at a time.
import { WorkflowNotFoundError } from '@temporalio/client';
import { mapLimited } from '../../common/concurrency.ts';
import { searchAttributes } from '../../temporal-config/index.ts';
import {
  slackResumeSignal,
  slackSyncWorkflowId,
  slackTicketWorkflowId,
  slackWorkflowTypes,
} from '../../workflows/slack-contract.ts';
import type { SlackDeps } from './deps.ts';
import { pausedThreadsOf } from './installations.ts';

const SIGNALS_AT_ONCE = 8;

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

  const pausedTickets = new Set(paused.map((p) => p.ticketId));
  const running: string[] = [];
  try {
    const query = `WorkflowType = '${slackWorkflowTypes.ticket}' AND ExecutionStatus = 'Running' AND ${searchAttributes.OrganizationId.name} = '${paused[0]!.organizationId}'`;
    for await (const run of temporal.workflow.list({ query })) {
      const ticketId = run.workflowId.startsWith(slackTicketWorkflowId(integrationId, ''))
        ? run.workflowId.slice(slackTicketWorkflowId(integrationId, '').length)
        : undefined;
      if (ticketId && pausedTickets.has(ticketId)) running.push(ticketId);
    }
  } catch (error) {
    deps.logger.warn(
      { err: error, integrationId },
      'paused Slack ticket workflows not listed: they resume within the hour',
    );
  }
  const signalled = await mapLimited(running, SIGNALS_AT_ONCE, (ticketId) =>
    resume(slackTicketWorkflowId(integrationId, ticketId), ticketId),
  );
  return signalled.filter(Boolean).length;
}
