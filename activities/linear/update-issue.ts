// Writes the sync's decisions to the issue: state, priority, assignee (matched by email to a Linear user).

import type { SyncPlan } from '../../workflows/linear-sync-plan.ts';
import { callLinear, type LinearActivityDeps, rawRequest } from './call.ts';
import type { LinkRef } from './contract.ts';
import { findLinearUserId, normalEmail } from './issue-query.ts';
import { requireLink } from './link-status.ts';

const ISSUE_UPDATE = `
  mutation SwitchboardIssueUpdate($id: String!, $input: IssueUpdateInput!) {
    issueUpdate(id: $id, input: $input) { success issue { id updatedAt assignee { email } } }
  }
`;
const ISSUE_UPDATED_AT = `
  query SwitchboardIssueUpdatedAt($id: String!) { issue(id: $id) { id updatedAt assignee { email } } }
`;

type UpdatedIssue = { id: string; updatedAt: string; assignee: { email: string | null } | null };

/**
 * Raw Linear values to the issue. An assignee email no Linear user has is written as "unassigned" (the merge's
 * settleAssignee records it so, and the next sync does not read it as a change). Returns the issue's updatedAt
 * and the assignee it now has.
 */
export async function updateLinearIssue(
  deps: LinearActivityDeps,
  ref: LinkRef & { changes: SyncPlan['toLinear'] },
): Promise<{ updatedAt: string; assigneeEmail: string | null }> {
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
        ({ issue } = await rawRequest<{ issue: UpdatedIssue }>(linear, ISSUE_UPDATED_AT, { id: link.issueId }));
      } else {
        const result = await rawRequest<{ issueUpdate: { issue: UpdatedIssue | null } }>(linear, ISSUE_UPDATE, {
          id: link.issueId,
          input,
        });
        issue = result.issueUpdate.issue!;
      }
      return { updatedAt: issue.updatedAt, assigneeEmail: normalEmail(issue.assignee?.email) };
    },
    { requests: 2 },
  );
}
