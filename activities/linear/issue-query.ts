// The issue as the sync needs it, in one request: the SDK's models load every relation lazily (state, assignee,
// team states, labels, comments would be six round trips), so the hot path sends its own query. The Linear fake
// validates it against Linear's schema like any request the SDK makes.
import type { InstallationClient } from '../../common/linear/client.ts';
import type { LinearCommentPayload } from '../../workflows/linear-contract.ts';
import type { LinearState } from '../../workflows/linear-sync-plan.ts';
import { rawRequest } from './call.ts';
import type { LinearIssueDisplay } from './contract.ts';

/** Enough of an issue to show it on the ticket (create, link, lookups). */
export const ISSUE_DISPLAY_FIELDS = `
  id identifier title url priority updatedAt trashed
  state { id name type }
  assignee { id name email }
  team { id key }
`;

export const ISSUE_SNAPSHOT_QUERY = `
  query SwitchboardIssueSnapshot($id: String!) {
    issue(id: $id) {
      ${ISSUE_DISPLAY_FIELDS}
      archivedAt
      team { id key states(first: 100) { nodes { id name type position } } }
      labels(first: 50) { nodes { id name } }
      comments(last: 100) { nodes { id body createdAt user { id name displayName } } }
    }
  }
`;

const ISSUE_DISPLAY_QUERY = `
  query SwitchboardIssue($id: String!) {
    issue(id: $id) { ${ISSUE_DISPLAY_FIELDS} }
  }
`;

export type RawIssueDisplay = {
  id: string;
  identifier: string;
  title: string;
  url: string;
  priority: number;
  updatedAt: string;
  trashed: boolean | null;
  state: { id: string; name: string; type: string } | null;
  assignee: { id: string; name: string; email: string | null } | null;
  team: { id: string; key: string };
};

export type RawIssueSnapshot = Omit<RawIssueDisplay, 'team'> & {
  archivedAt: string | null;
  team: { id: string; key: string; states: { nodes: LinearState[] } };
  labels: { nodes: Array<{ id: string; name: string }> };
  comments: {
    nodes: Array<{
      id: string;
      body: string;
      createdAt: string;
      user: { id: string; name: string; displayName: string } | null;
    }>;
  };
};

export type IssueSnapshot = {
  display: LinearIssueDisplay;
  stateId: string;
  priority: number;
  assigneeEmail: string | null;
  updatedAt: string;
  trashed: boolean;
  teamId: string;
  teamKey: string;
  states: LinearState[];
  labels: Array<{ id: string; name: string }>;
  comments: LinearCommentPayload[];
};

/** The issue with its team's states, labels and latest comments (throws Linear's "Entity not found" if gone). */
export async function fetchIssueSnapshot(linear: InstallationClient, issueId: string): Promise<IssueSnapshot> {
  const { issue } = await rawRequest<{ issue: RawIssueSnapshot }>(linear, ISSUE_SNAPSHOT_QUERY, { id: issueId });
  return {
    display: toDisplay(issue),
    stateId: issue.state?.id ?? '',
    priority: issue.priority,
    assigneeEmail: normalEmail(issue.assignee?.email ?? null),
    updatedAt: issue.updatedAt,
    trashed: issue.trashed === true,
    teamId: issue.team.id,
    teamKey: issue.team.key,
    states: issue.team.states.nodes.map((s) => ({ id: s.id, name: s.name, type: s.type, position: s.position })),
    labels: issue.labels.nodes,
    comments: issue.comments.nodes.map((c) => ({
      id: c.id,
      body: c.body,
      authorName: c.user?.name || c.user?.displayName || 'Linear',
      authorId: c.user?.id ?? null,
      createdAt: c.createdAt,
    })),
  };
}

/** The issue for display, by id or identifier (`ENG-123`). */
export async function fetchIssueDisplay(linear: InstallationClient, idOrIdentifier: string): Promise<RawIssueDisplay> {
  const { issue } = await rawRequest<{ issue: RawIssueDisplay }>(linear, ISSUE_DISPLAY_QUERY, { id: idOrIdentifier });
  return issue;
}

export function toDisplay(issue: RawIssueDisplay): LinearIssueDisplay {
  return {
    id: issue.id,
    identifier: issue.identifier,
    title: issue.title,
    url: issue.url,
    state: issue.state ? { id: issue.state.id, name: issue.state.name, type: issue.state.type } : null,
    assignee: issue.assignee ? { name: issue.assignee.name, email: normalEmail(issue.assignee.email) } : null,
    priority: issue.priority,
  };
}

export function normalEmail(email: string | null | undefined): string | null {
  return email ? email.trim().toLowerCase() : null;
}

/** The Linear user with this email (case-insensitive), or null when the workspace has none. */
export async function findLinearUserId(linear: InstallationClient, email: string): Promise<string | null> {
  const { users } = await rawRequest<{ users: { nodes: Array<{ id: string }> } }>(
    linear,
    `query SwitchboardUserByEmail($email: String!) {
      users(filter: { email: { eqIgnoreCase: $email } }, first: 1) { nodes { id } }
    }`,
    { email },
  );
  return users.nodes[0]?.id ?? null;
}
