// The Linear activities as the workflows see them: one external call (or one transaction) each, idempotent, and
// failing with typed, documented ApplicationFailures. `createLinearActivities` (index.ts) implements this type.
import type { DispatchedTicketEvent } from '../../common/ticket-events.ts';
import type { AutoCreateRule } from '../../domain/integrations/linear-config.ts';
import type { LinearCommentPayload, LinearIssueRequest } from '../../workflows/linear-contract.ts';
import type {
  FieldConflict,
  LinearSide,
  SyncedValues,
  SyncPlan,
  SyncSettings,
  TicketSide,
} from '../../workflows/linear-sync-plan.ts';

export { linearFailureTypes } from '../../common/linear/failure-types.ts';

/** Shown on the ticket: what the issue looks like in Linear. */
export type LinearIssueDisplay = {
  id: string;
  identifier: string;
  title: string;
  url: string;
  state: { id: string; name: string; type: string } | null;
  assignee: { name: string; email: string | null } | null;
  priority: number;
};

export type LinkRef = { organizationId: string; linkId: string };

export type LinkSnapshot =
  | { link: 'unlinked' }
  | {
      link: 'active';
      settings: SyncSettings & {
        commentsToLinear: 'public' | 'all' | 'none';
        commentsFromLinear: 'internal' | 'public' | 'none';
        reconcileIntervalMs: number;
      };
      ticket: TicketSide;
      linear: LinearSide;
      issue: LinearIssueDisplay;
      lastSynced: SyncedValues | null;
      /** Linear comments on the issue that are not mapped to a ticket comment yet (catches missed webhooks). */
      unmappedLinearComments: LinearCommentPayload[];
    };

export type LinearActivities = {
  /** The link, both sides' current values (one Linear query) and the last synced values. */
  readLinkSnapshot(ref: LinkRef): Promise<LinkSnapshot>;
  /** Writes raw values to the issue (assignee resolved by email; an unknown email leaves it unassigned). */
  updateLinearIssue(
    ref: LinkRef & { changes: SyncPlan['toLinear'] },
  ): Promise<{ updatedAt: string; assigneeEmail: string | null; issue: LinearIssueDisplay }>;
  /**
   * Writes the ticket as the integration (actor type `integration`), so its events are recognisably ours; writes
   * nothing and answers `stale` when a field it writes changed since `expected` (the ticket the plan saw).
   */
  updateTicketFromLinear(
    ref: LinkRef & { changes: SyncPlan['toTicket']; expected?: SyncedValues['ticket'] },
  ): Promise<{ assigneeEmail: string | null | undefined; stale?: true }>;
  /** Stores the new synced values, the display snapshot and the conflicts; the link becomes `synced`. */
  recordSyncState(
    ref: LinkRef & { synced: SyncedValues; issue: LinearIssueDisplay; conflicts: FieldConflict[] },
  ): Promise<void>;
  /** Marks the link failed (paused) with a reason, and tells the organisation's admins (integration event). */
  markLinkFailed(ref: LinkRef & { code: string; reason: string }): Promise<void>;
  /** Marks the link pending again after a resume. */
  markLinkPending(ref: LinkRef): Promise<void>;
  /** Posts a ticket comment to the issue once (mapped per link); skips comments the policy leaves out. */
  mirrorTicketComment(ref: LinkRef & { commentId: string }): Promise<{ linearCommentId: string | null }>;
  /** Adds a Linear comment to the ticket once ("Name via Linear"); our own mirrored comments are skipped. */
  importLinearComment(ref: LinkRef & { comment: LinearCommentPayload }): Promise<{ ticketCommentId: string | null }>;
  /**
   * On the Linear queue, for every ticket event the Linear subscription takes: signals each link of the ticket
   * (Signal-With-Start of its sync workflow) and returns the active installations with their auto-create rules.
   */
  routeTicketEventToLinear(event: DispatchedTicketEvent): Promise<{
    installations: Array<{ integrationId: string; autoCreateAll: boolean; rules: AutoCreateRule[]; linked: boolean }>;
  }>;
  /**
   * Creates the issue for a ticket (mapped priority, labels, assignee by email, description with a link back) and
   * attaches the ticket URL. A retried attempt finds the issue the earlier one created instead of creating another.
   */
  createLinearIssue(request: Extract<LinearIssueRequest, { mode: 'create' }>): Promise<LinearIssueDisplay>;
  /** Finds an existing issue by identifier (`ENG-123`) or URL and attaches the ticket URL to it. */
  findAndAttachLinearIssue(request: Extract<LinearIssueRequest, { mode: 'link' }>): Promise<LinearIssueDisplay>;
  /** Inserts the external_sync_records row (or finds the existing one for this ticket and issue). */
  recordLink(request: {
    organizationId: string;
    ticketId: string;
    integrationId: string;
    issue: LinearIssueDisplay;
    /** A linked existing issue takes Linear's values at the first sync; a created one the ticket's. */
    origin?: 'created' | 'linked';
  }): Promise<{ linkId: string; created: boolean }>;
};
