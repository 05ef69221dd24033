// What the Linear workflows share with the code that starts and signals them (the API, the inbound webhook route,
// the routing activity) and with the worker: ids, inputs, signals, queries, the task queue. No workflow runtime code
// here, so the API and activities can import it.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Actor, DispatchedTicketEvent } from '../common/ticket-events.ts';
import type { SyncedValues } from './linear-sync-plan.ts';

/**
 * The queue the Linear worker serves next to a ticket queue: `tickets` → `linear`; a ticket queue with another
 * name (tests) gets its own sibling, so deterministic workflow code can always tell where Linear work goes.
 */
export function linearTaskQueueFor(ticketsTaskQueue: string): string {
  return ticketsTaskQueue === 'tickets' ? 'linear' : `${ticketsTaskQueue}.linear`;
}

/** A change seen on Linear's side, as the inbound webhook route hands it to every link of the issue. */
export type LinearWebhookChange = {
  /** `linear-delivery`: the same delivery sent twice is the same change. */
  deliveryId: string;
  type: 'Issue' | 'Comment';
  action: 'create' | 'update' | 'remove';
  issueId: string;
  /** The entity's `updatedAt` (ISO). */
  updatedAt: string;
  /** The Linear user who made the change, when Linear names one. */
  actorId: string | null;
  /** Comment webhooks only. */
  comment?: LinearCommentPayload;
};

export type LinearCommentPayload = {
  id: string;
  body: string;
  /** Display name of the Linear author ("Grace"), for "Grace via Linear". */
  authorName: string;
  authorId: string | null;
  createdAt: string;
};

/** Everything that makes a link workflow look at its link again, in arrival order. */
export type LinearLinkChange =
  | { kind: 'ticket-event'; event: DispatchedTicketEvent }
  | { kind: 'linear-webhook'; change: LinearWebhookChange };

export type LinearSyncInput = {
  organizationId: string;
  ticketId: string;
  /** external_sync_records.id */
  linkId: string;
  integrationId: string;
  /** Linear's issue id (uuid), not the identifier: identifiers change when an issue moves team. */
  issueId: string;
  /** Overrides the installation's reconcile interval (tests). */
  reconcileIntervalMs?: number;
  /** Changes applied per run before continuing as new (Temporal may suggest it sooner). */
  maxChangesPerRun?: number;
  /** Carried over continue-as-new. */
  carried?: LinearSyncCarried;
};

export type LinearSyncCarried = {
  pending: LinearLinkChange[];
  /** Delivery ids recently applied (bounded), so a duplicate webhook is dropped without a Linear read. */
  recentDeliveries: string[];
  paused: { code: string; reason: string } | null;
  runs: number;
  changesApplied: number;
};

/** A ticket event or a Linear webhook for this link. */
export const linearChangeSignal = defineSignal<[LinearLinkChange]>('linearChange');
/**
 * Several changes at once, in order: what the outbox relay sends when a batch holds more than one of a ticket's
 * events for the link (one signal per link per batch, not one per event).
 */
export const linearChangesSignal = defineSignal<[LinearLinkChange[]]>('linearChanges');
/** The link failed (revoked token, deleted issue) and someone fixed it: retry, keeping the queued changes. */
export const linearResumeSignal = defineSignal('resume');
/** The link was removed (its row is gone): finish what is running and end. */
export const linearUnlinkSignal = defineSignal('unlink');
/** Compare with Linear now instead of at the next reconcile tick. */
export const linearReconcileSignal = defineSignal('reconcileNow');

export type LinearSyncState = {
  linkId: string;
  issueId: string;
  pending: number;
  paused: { code: string; reason: string } | null;
  lastSynced: SyncedValues | null;
  changesApplied: number;
  reconciles: number;
  runs: number;
};
export const linearSyncStateQuery = defineQuery<LinearSyncState>('state');

/** Create a new issue from the ticket, or link an existing one (`ENG-123` or its URL). */
export type LinearIssueRequest = {
  organizationId: string;
  ticketId: string;
  integrationId: string;
  /** Idempotency key: the same key never creates a second issue (the workflow id carries it too). */
  requestKey: string;
  requestedBy: Actor;
} & ({ mode: 'create'; title?: string; auto?: boolean } | { mode: 'link'; issueRef: string });

export type LinearIssueResult = {
  linkId: string;
  issueId: string;
  identifier: string;
  url: string;
  title: string;
  /** False when the ticket was already linked to this issue. */
  created: boolean;
};
