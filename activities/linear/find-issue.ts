// Linking an existing issue: by identifier (`ENG-123`) or by its Linear URL, then attaching the ticket to it.
import { ApplicationFailure } from '@temporalio/common';
import { allowedTeamIds } from '../../domain/integrations/linear-config.ts';
import type { LinearIssueRequest } from '../../workflows/linear-contract.ts';
import { callLinear, invalidInput, type LinearActivityDeps } from './call.ts';
import { type LinearIssueDisplay, linearFailureTypes } from './contract.ts';
import { fetchIssueDisplay, toDisplay } from './issue-query.ts';
import { loadInstallationConfig } from './link-status.ts';
import { attachTicket, loadTicketForIssue, ticketUrl } from './ticket-summary.ts';

const identifierPattern = /^([A-Za-z][A-Za-z0-9_]{0,14})-(\d{1,9})$/;

/**
 * `ENG-123`, or `https://linear.app/<workspace>/issue/ENG-123/<slug>`: the identifier (upper case) and the
 * workspace the URL names. Anything else is null.
 */
export function parseIssueRef(ref: string): { identifier: string; workspace: string | null } | null {
  const text = ref.trim();
  const bare = identifierPattern.exec(text);
  if (bare) return { identifier: text.toUpperCase(), workspace: null };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.hostname !== 'linear.app') return null;
  const [workspace, kind, identifier] = url.pathname.split('/').filter(Boolean);
  if (!workspace || kind !== 'issue' || !identifier || !identifierPattern.test(identifier)) return null;
  return { identifier: identifier.toUpperCase(), workspace };
}

export async function findAndAttachLinearIssue(
  deps: LinearActivityDeps,
  request: Extract<LinearIssueRequest, { mode: 'link' }>,
): Promise<LinearIssueDisplay> {
  const parsed = parseIssueRef(request.issueRef);
  if (!parsed)
    throw invalidInput(
      `"${request.issueRef.slice(0, 200)}" is not a Linear issue: give its identifier (ENG-123) or its linear.app URL`,
    );
  const config = await loadInstallationConfig(deps.db, request.organizationId, request.integrationId);
  if (parsed.workspace && config.workspace && parsed.workspace !== config.workspace.urlKey)
    throw invalidInput(
      `the issue is in the Linear workspace "${parsed.workspace}", not "${config.workspace.urlKey}" that this installation is connected to`,
    );
  // The token may see every team of the workspace, private ones too; a link shows the issue to the ticket's agents.
  const allowed = allowedTeamIds(config);
  if (allowed.length === 0) throw teamNotAllowed(noTeamChosen);
  const ticket = await loadTicketForIssue(deps.db, request.organizationId, request.ticketId);
  const url = ticketUrl(deps.config.publicUrl, ticket.id);

  return callLinear(
    deps,
    request,
    async (linear) => {
      const issue = await fetchIssueDisplay(linear, parsed.identifier);
      // Checked first (before whether it was deleted), before anything is written to the issue, and in the words the
      // agent typed: an issue of a team we may not link tells them nothing, not its title, state, team or new key.
      if (!allowed.includes(issue.team.id)) throw teamNotAllowed(notLinkable(parsed.identifier));
      if (issue.trashed)
        throw ApplicationFailure.create({
          type: linearFailureTypes.issueNotFound,
          message: `the Linear issue ${issue.identifier} was deleted`,
          nonRetryable: true,
        });
      await attachTicket(linear, issue.id, url, ticket);
      return toDisplay(issue);
    },
    { requests: 2 },
  );
}

const noTeamChosen =
  'this Linear installation has no team chosen, and only issues of its teams can be linked: an admin chooses the ' +
  'team (and any others agents may link) in the Linear settings';

/** Names the team restriction, not the issue: an issue of a team we may not link stays unseen. */
export function outsideTeams(identifier: string, teamKey: string): string {
  return (
    `${identifier} is in the Linear team ${teamKey}, whose issues this installation may not link: only issues of ` +
    'its configured teams can be linked (an admin can allow more teams in the Linear settings)'
  );
}

/** Why an issue cannot be linked, naming only what the agent gave. */
export function notLinkable(reference: string): string {
  return (
    `${reference} is not in a Linear team whose issues this installation may link: only issues of its configured ` +
    'teams can be linked (an admin can allow more teams in the Linear settings)'
  );
}

export function teamNotAllowed(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: linearFailureTypes.teamNotAllowed, message, nonRetryable: true });
}
