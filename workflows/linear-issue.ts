// Creating a Linear issue for a ticket, or linking an existing one (`linear-issue/<ticketId>/<requestKey>`): the
// issue (created, or found and given the ticket's URL as an attachment), then its link row, then the link's sync
// workflow, which outlives this one. Each step is idempotent, so a retried step or a repeated request with the same
// key never makes a second issue or a second link.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, ParentClosePolicy, startChild } from '@temporalio/workflow';
import type { LinearIssueDisplay } from '../activities/linear/contract.ts';
import { ticketSearchAttributes, workflowIds } from '../temporal-config/index.ts';
import { linearActivities, linearLocalActivities } from './linear-activities.ts';
import type { LinearIssueRequest, LinearIssueResult, LinearSyncInput } from './linear-contract.ts';
import { linearSyncWorkflow } from './linear-sync.ts';

export async function linearIssueWorkflow(request: LinearIssueRequest): Promise<LinearIssueResult> {
  const remote = linearActivities();
  const local = linearLocalActivities();
  let issue: LinearIssueDisplay;
  let link: { linkId: string; created: boolean };
  try {
    issue =
      request.mode === 'create'
        ? await remote.createLinearIssue(request)
        : await remote.findAndAttachLinearIssue(request);
    link = await local.recordLink({
      organizationId: request.organizationId,
      ticketId: request.ticketId,
      integrationId: request.integrationId,
      issue,
      origin: request.mode === 'create' ? 'created' : 'linked',
    });
  } catch (err) {
    // The activity's own failure (issue not found, token revoked, ...) is the workflow's, so whoever waits on the
    // result sees its type and message rather than a generic "activity failed".
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) throw err.cause;
    throw err;
  }

  const syncInput: LinearSyncInput = {
    organizationId: request.organizationId,
    ticketId: request.ticketId,
    linkId: link.linkId,
    integrationId: request.integrationId,
    issueId: issue.id,
  };
  try {
    await startChild(linearSyncWorkflow, {
      workflowId: workflowIds.linearSync(request.ticketId, issue.id),
      args: [syncInput],
      // The link lives on after the request is done.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      typedSearchAttributes: ticketSearchAttributes(request.ticketId, request.organizationId, 'linear'),
    });
  } catch (err) {
    // The link existed already and its workflow runs (a repeated request, or a ticket event started it first).
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return {
    linkId: link.linkId,
    issueId: issue.id,
    identifier: issue.identifier,
    url: issue.url,
    title: issue.title,
    created: link.created,
  };
}
