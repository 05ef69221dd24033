// The Linear activities, run by the `linear` task queue worker (rate limited queue-wide): every Linear call, every
// write a sync step makes, and routing ticket events to the links' sync workflows. Each activity lives in its own
// file; this one binds them to their dependencies.
import type { LinearActivityDeps } from './call.ts';
import { importLinearComment, mirrorTicketComment } from './comments.ts';
import type { LinearActivities } from './contract.ts';
import { createLinearIssue } from './create-issue.ts';
import { findAndAttachLinearIssue } from './find-issue.ts';
import { markLinkFailed, markLinkPending } from './link-status.ts';
import { readLinkSnapshot } from './read-link-snapshot.ts';
import { recordLink } from './record-link.ts';
import { recordSyncState } from './record-sync-state.ts';
import { routeTicketEventToLinear } from './route-ticket-event.ts';
import { updateLinearIssue } from './update-issue.ts';
import { updateTicketFromLinear } from './update-ticket.ts';

export type LinearActivitiesOptions = LinearActivityDeps;

export function createLinearActivities(deps: LinearActivitiesOptions): LinearActivities {
  return {
    readLinkSnapshot: (ref) => readLinkSnapshot(deps, ref),
    updateLinearIssue: (ref) => updateLinearIssue(deps, ref),
    updateTicketFromLinear: (ref) => updateTicketFromLinear(deps, ref),
    recordSyncState: (ref) => recordSyncState(deps, ref),
    markLinkFailed: (ref) => markLinkFailed(deps.db, ref),
    markLinkPending: (ref) => markLinkPending(deps.db, ref),
    mirrorTicketComment: (ref) => mirrorTicketComment(deps, ref),
    importLinearComment: (ref) => importLinearComment(deps, ref),
    routeTicketEventToLinear: (event) => routeTicketEventToLinear(deps, event),
    createLinearIssue: (request) => createLinearIssue(deps, request),
    findAndAttachLinearIssue: (request) => findAndAttachLinearIssue(deps, request),
    recordLink: (request) => recordLink(deps, request),
  };
}

export { linearFailureTypes } from './contract.ts';
export { ticketsTaskQueueFor } from './route-ticket-event.ts';
