// Creating the issue for a ticket. The issue's id is derived from the request's idempotency key, so an attempt
// whose answer was lost (or a request replayed) looks the issue up by that id and finds it instead of creating a
// second one; the attachment that links back is an upsert by issue and URL, so repeating it is harmless too.
import type { LinearIssueRequest } from '../../workflows/linear-contract.ts';
import { linearPriorityForTicket } from '../../workflows/linear-sync-plan.ts';
import { callLinear, invalidInput, isNotFound, type LinearActivityDeps, rawRequest } from './call.ts';
import { requestedIssueId } from './comment-ids.ts';
import type { LinearIssueDisplay } from './contract.ts';
import {
  fetchIssueDisplay,
  findLinearUserId,
  ISSUE_DISPLAY_FIELDS,
  type RawIssueDisplay,
  toDisplay,
} from './issue-query.ts';
import { loadInstallationConfig } from './link-status.ts';
import { attachTicket, issueDescription, loadTicketForIssue, ticketUrl } from './ticket-summary.ts';

const ISSUE_CREATE = `
  mutation SwitchboardIssueCreate($input: IssueCreateInput!) {
    issueCreate(input: $input) { success issue { ${ISSUE_DISPLAY_FIELDS} } }
  }
`;

export async function createLinearIssue(
  deps: LinearActivityDeps,
  request: Extract<LinearIssueRequest, { mode: 'create' }>,
): Promise<LinearIssueDisplay> {
  const config = await loadInstallationConfig(deps.db, request.organizationId, request.integrationId);
  if (!config.teamId) throw invalidInput('choose a team for new Linear issues in the installation settings first');
  const ticket = await loadTicketForIssue(deps.db, request.organizationId, request.ticketId);
  const url = ticketUrl(deps.config.publicUrl, ticket.id);
  const issueId = requestedIssueId(request.integrationId, ticket.id, request.requestKey);

  return callLinear(
    deps,
    request,
    async (linear) => {
      let issue: RawIssueDisplay | null = null;
      try {
        issue = await fetchIssueDisplay(linear, issueId);
      } catch (err) {
        if (!(await isNotFound(err))) throw err;
      }
      if (!issue) {
        const input: Record<string, unknown> = {
          id: issueId,
          teamId: config.teamId,
          title: (request.title?.trim() || ticket.subject).slice(0, 255),
          description: issueDescription(ticket, url),
          priority: linearPriorityForTicket(ticket.priority),
        };
        if (config.labelIds.length > 0) input.labelIds = config.labelIds;
        if (ticket.assigneeEmail) {
          const assigneeId = await findLinearUserId(linear, ticket.assigneeEmail);
          if (assigneeId) input.assigneeId = assigneeId;
        }
        const created = await rawRequest<{ issueCreate: { issue: RawIssueDisplay | null } }>(linear, ISSUE_CREATE, {
          input,
        });
        issue = created.issueCreate.issue!;
      }
      await attachTicket(linear, issue.id, url, ticket);
      return toDisplay(issue);
    },
    { requests: 4 },
  );
}
