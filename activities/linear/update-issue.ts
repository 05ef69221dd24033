// Writes the sync's decisions to the issue: state, priority, assignee (matched by email to a Linear user).

import type { SyncPlan } from '../../workflows/linear-sync-plan.ts';
import { callLinear, type LinearActivityDeps, rawRequest } from './call.ts';
import type { LinearIssueDisplay, LinkRef } from './contract.ts';
import { findLinearUserId, ISSUE_DISPLAY_FIELDS, normalEmail, type RawIssueDisplay, toDisplay } from './issue-query.ts';
import { requireLink } from './link-status.ts';

// The issue as it is after the write comes back with it, so the sync needs no second read to show it.
const ISSUE_UPDATE = `
  mutation SwitchboardIssueUpdate($id: String!, $input: IssueUpdateInput!) {
    issueUpdate(id: $id, input: $input) { success issue { ${ISSUE_DISPLAY_FIELDS} } }
  }
`;
const ISSUE_CURRENT = `
  query SwitchboardIssueCurrent($id: String!) { issue(id: $id) { ${ISSUE_DISPLAY_FIELDS} } }
`;

type UpdatedIssue = RawIssueDisplay;

/**
 * Raw Linear values to the issue. An assignee email no Linear user has is written as "unassigned" (the merge's
 * settleAssignee records it so, and the next sync does not read it as a change). Returns the issue's updatedAt,
 * the assignee it now has, and the issue for display.
 */
export async function updateLinearIssue(
  deps: LinearActivityDeps,
  ref: LinkRef & { changes: SyncPlan['toLinear'] },
): Promise<{ updatedAt: string; assigneeEmail: string | null; issue: LinearIssueDisplay }> {
  const link = await requireLink(deps.db, ref);
  return callLinear(
    deps,
    link,
    async (linear) => {
      const input: Record<string, unknown> = {};
      if (ref.changes.stateId !== undefined) input.stateId = ref.changes.stateId;
      if (ref.changes.priority !== undefined) input.priority = ref.changes.priority;
      if (ref.changes.assigneeEmail !== undefined)
        input.assigneeId = ref.changes.assigneeEmail ? await findLinearUserId(linear, ref.changes.assigneeEmail) : null;
      let issue: UpdatedIssue;
      if (Object.keys(input).length === 0) {
        ({ issue } = await rawRequest<{ issue: UpdatedIssue }>(linear, ISSUE_CURRENT, { id: link.issueId }));
      } else {
        const result = await rawRequest<{ issueUpdate: { issue: UpdatedIssue | null } }>(linear, ISSUE_UPDATE, {
          id: link.issueId,
          input,
        });
        issue = result.issueUpdate.issue!;
      }
      return { updatedAt: issue.updatedAt, assigneeEmail: normalEmail(issue.assignee?.email), issue: toDisplay(issue) };
    },
    { requests: 2, linkId: link.id },
  );
}
