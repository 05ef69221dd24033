// One ticket ↔ Linear issue link (`linear-sync/<ticketId>/<issueId>`): the only writer of that link, so changes
// from both sides are applied one after another, in arrival order. Ticket events (from the Linear subscription's
// routing activity) and Linear webhooks (from the API's inbound route) arrive as signals and wait in a queue.
// Comments are mirrored one by one; every other change triggers a *sync step*: read both sides, plan the per-field
// three-way merge (linear-sync-plan.ts), write what the plan says, record what both sides now hold. A step reads
// the current state anyway, so several queued field changes are served by one step, and a change we made ourselves
// (its webhook or its ticket event) finds nothing to do. A periodic reconcile step catches missed webhooks.
// When Linear refuses for good (revoked token, deleted issue) the link is marked failed and the workflow waits for
// `resume` or `unlink`, keeping its queue.
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type RetryPolicy,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { type LinearActivities, type LinkRef, linearFailureTypes } from '../activities/linear/contract.ts';
import {
  type LinearLinkChange,
  type LinearSyncCarried,
  type LinearSyncInput,
  type LinearSyncState,
  linearChangeSignal,
  linearChangesSignal,
  linearReconcileSignal,
  linearResumeSignal,
  linearSyncStateQuery,
  linearTaskQueueFor,
  linearUnlinkSignal,
} from './linear-contract.ts';
import { planSync, type SyncedValues, settleAssignee, ticketEventNeedsSync } from './linear-sync-plan.ts';

export const DEFAULT_RECONCILE_INTERVAL_MS = 10 * 60 * 1000;
export const DEFAULT_MAX_CHANGES_PER_RUN = 200;
/** Delivery ids remembered for de-duplication; Linear redelivers within hours, by then the id is long applied. */
const RECENT_DELIVERIES = 500;

/** Failures that no retry fixes: the link pauses until someone reconnects, restores the issue or unlinks. */
export const pausingFailureTypes = [
  'LinearAuthRevoked',
  'LinearIssueNotFound',
  'LinearForbidden',
  'LinearNotConnected',
  'LinearInvalidInput',
] as const;

/** Transient failures back off from 1 s to a minute; the pausing ones are not retried. */
const linearRetryPolicy: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  // A rate-limited attempt fails with Linear's Retry-After as its nextRetryDelay, which overrides this.
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: [...pausingFailureTypes],
};

/**
 * The queue of the Linear activities: the sibling of the ticket queue this workflow runs on (or that queue itself,
 * when the workflow was started on the Linear queue).
 */
export function linearActivityQueue(): string {
  const queue = workflowInfo().taskQueue;
  return queue === 'linear' || queue.endsWith('.linear') ? queue : linearTaskQueueFor(queue);
}

/**
 * The activities that call Linear: on the Linear queue, under its rate limit. The ones that only touch our own
 * database (see linearLocalActivities) do not spend Linear's budget and run as local activities instead.
 */
export function linearActivities(startToCloseTimeout: '10 seconds' | '30 seconds' = '30 seconds') {
  return proxyActivities<Pick<LinearActivities, LinearCallingActivity>>({
    taskQueue: linearActivityQueue(),
    // One Linear request or one transaction each; the SDK's own request timeout is shorter.
    startToCloseTimeout,
    retry: linearRetryPolicy,
  });
}

type LinearCallingActivity =
  | 'readLinkSnapshot'
  | 'updateLinearIssue'
  | 'mirrorTicketComment'
  | 'createLinearIssue'
  | 'findAndAttachLinearIssue';

/**
 * The Linear activities that are one PostgreSQL transaction (or a few signals): run as local activities in the
 * worker that runs the workflow, recorded as markers in its own workflow task. A sync step then costs the Temporal
 * server one activity task per Linear request instead of one per step of the story, which is most of its latency
 * on a busy server.
 */
export function linearLocalActivities(startToCloseTimeout: '10 seconds' | '30 seconds' = '30 seconds') {
  return proxyLocalActivities<Omit<LinearActivities, LinearCallingActivity>>({
    startToCloseTimeout,
    retry: linearRetryPolicy,
  });
}

/** What a link's workflow calls: Linear through the Linear queue, the database locally. */
function linkActivities() {
  // Activity proxies resolve names on access (they have no own properties to spread), hence one by one.
  const remote = linearActivities();
  const local = linearLocalActivities();
  return {
    readLinkSnapshot: remote.readLinkSnapshot,
    updateLinearIssue: remote.updateLinearIssue,
    mirrorTicketComment: remote.mirrorTicketComment,
    updateTicketFromLinear: local.updateTicketFromLinear,
    recordSyncState: local.recordSyncState,
    markLinkFailed: local.markLinkFailed,
    markLinkPending: local.markLinkPending,
    importLinearComment: local.importLinearComment,
  };
}

export async function linearSyncWorkflow(input: LinearSyncInput): Promise<void> {
  const acts = linkActivities();
  const ref: LinkRef = { organizationId: input.organizationId, linkId: input.linkId };
  const maxChanges = input.maxChangesPerRun ?? DEFAULT_MAX_CHANGES_PER_RUN;
  const carried: LinearSyncCarried = input.carried ?? {
    pending: [],
    recentDeliveries: [],
    paused: null,
    runs: 0,
    changesApplied: 0,
  };

  const pending: LinearLinkChange[] = [...carried.pending];
  const recent: string[] = [...carried.recentDeliveries];
  const seen = new Set(recent);
  let paused = carried.paused;
  let changesApplied = carried.changesApplied;
  let changesThisRun = 0;
  let reconciles = 0;
  let lastSynced: SyncedValues | null = null;
  let reconcileIntervalMs = input.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
  // Every run starts by looking: the first links the two sides, later ones cover whatever happened around the
  // continue-as-new.
  let reconcileDue = true;
  // The next reconcile is due at a fixed time, not after a quiet interval: on a busy link the quiet interval never
  // comes, and only a reconcile imports Linear comments whose webhooks were missed. (Runs started before this was
  // so keep the quiet interval, for replay.)
  const reconcileOnSchedule = patched('linear-sync-reconcile-on-schedule');
  let nextReconcileAt = Date.now() + reconcileIntervalMs;
  let resumeRequested = false;
  /** updatedAt of the issue after each of our recent writes (epoch ms). */
  const ownWrites: number[] = [];
  let unlinked = false;

  const receive = (change: LinearLinkChange) => {
    if (change.kind === 'linear-webhook') {
      // Linear redelivers when it did not see our 200 in time; the second copy is the same change.
      if (seen.has(change.change.deliveryId)) return;
      seen.add(change.change.deliveryId);
      recent.push(change.change.deliveryId);
      if (recent.length > RECENT_DELIVERIES) seen.delete(recent.shift()!);
    }
    pending.push(change);
  };
  setHandler(linearChangeSignal, receive);
  setHandler(linearChangesSignal, (changes) => {
    for (const change of changes) receive(change);
  });
  setHandler(linearResumeSignal, () => {
    // Only a paused link can resume: remembered on a healthy one, it would undo the next pause at once.
    if (paused) resumeRequested = true;
  });
  setHandler(linearUnlinkSignal, () => {
    unlinked = true;
  });
  setHandler(linearReconcileSignal, () => {
    reconcileDue = true;
  });
  setHandler(
    linearSyncStateQuery,
    (): LinearSyncState => ({
      linkId: input.linkId,
      issueId: input.issueId,
      pending: pending.length,
      paused,
      lastSynced,
      changesApplied,
      reconciles,
      runs: carried.runs + 1,
    }),
  );

  const remove = (done: readonly LinearLinkChange[]) => {
    for (const change of done) {
      const at = pending.indexOf(change);
      if (at >= 0) pending.splice(at, 1);
    }
    changesApplied += done.length;
    changesThisRun += done.length;
  };

  /** Reads both sides, applies the plan, records the result. False: the link is gone. */
  const syncStep = async (reconcile: boolean): Promise<boolean> => {
    const snapshot = await acts.readLinkSnapshot(ref);
    if (snapshot.link === 'unlinked') return false;
    if (input.reconcileIntervalMs === undefined) reconcileIntervalMs = snapshot.settings.reconcileIntervalMs;
    const plan = planSync(snapshot.ticket, snapshot.linear, snapshot.lastSynced, snapshot.settings, now());
    let issue = snapshot.issue;
    // What the sides hold after the writes, as the writes report it (an assignee the other side does not know
    // ends up unassigned there).
    let linearAssigneeEmail = snapshot.linear.assigneeEmail;
    let ticketAssigneeEmail = snapshot.ticket.assigneeEmail;
    if (Object.keys(plan.toLinear).length > 0) {
      const written = await acts.updateLinearIssue({ ...ref, changes: plan.toLinear });
      // The webhook of our own write carries exactly this updatedAt (Linear never gives two writes the same one),
      // so that echo can be dropped without reading Linear. `synced.issueUpdatedAt` stays the time of the state the
      // plan was made from: a change someone made between that read and our write is still ahead of it.
      ownWrites.push(Date.parse(written.updatedAt));
      if (ownWrites.length > 20) ownWrites.shift();
      issue = written.issue;
      linearAssigneeEmail = written.assigneeEmail;
    }
    if (Object.keys(plan.toTicket).length > 0) {
      const { status, priority, assigneeEmail } = snapshot.ticket;
      const expected = { status, priority, assigneeEmail };
      const written = await acts.updateTicketFromLinear({ ...ref, changes: plan.toTicket, expected });
      if (written.stale) {
        // Someone changed the ticket since the read: this plan's synced values would hide that edit. Record
        // nothing and plan again from what both sides hold now (the Linear write above is then seen as agreed).
        reconcileDue = true;
        return true;
      }
      if (written.assigneeEmail !== undefined) ticketAssigneeEmail = written.assigneeEmail;
    }
    const synced = settleAssignee(plan.synced, plan, { ticketAssigneeEmail, linearAssigneeEmail });
    await acts.recordSyncState({ ...ref, synced, issue, conflicts: plan.conflicts });
    lastSynced = synced;
    if (reconcile) {
      reconciles += 1;
      nextReconcileAt = Date.now() + reconcileIntervalMs;
      for (const comment of snapshot.unmappedLinearComments) {
        await acts.importLinearComment({ ...ref, comment });
      }
    }
    return true;
  };

  /** A change that needs no sync step: a comment, or an issue webhook older than what we already saw. */
  const handleAlone = async (change: LinearLinkChange): Promise<'done' | 'sync'> => {
    if (change.kind === 'ticket-event') {
      const { event } = change;
      if (event.type !== 'comment.created') return ticketEventNeedsSync(event, lastSynced) ? 'sync' : 'done';
      const comment = (event.payload as { comment?: { id: string; source?: string } }).comment;
      // A comment we imported from Linear is already there.
      if (comment && comment.source !== 'linear') await acts.mirrorTicketComment({ ...ref, commentId: comment.id });
      return 'done';
    }
    const { change: webhook } = change;
    if (webhook.type === 'Comment') {
      if (webhook.action === 'create' && webhook.comment)
        await acts.importLinearComment({ ...ref, comment: webhook.comment });
      return 'done';
    }
    if (webhook.action !== 'update') return 'sync';
    const at = Date.parse(webhook.updatedAt);
    // Linear reporting a state the last step already read, or the echo of our own write.
    if (lastSynced !== null && at <= Date.parse(lastSynced.issueUpdatedAt)) return 'done';
    if (ownWrites.includes(at)) return 'done';
    return 'sync';
  };

  const pauseOn = async (err: unknown): Promise<void> => {
    const failure = err instanceof ActivityFailure ? err.cause : err;
    if (!(failure instanceof ApplicationFailure)) throw err;
    // Unlinked while the step ran (and the unlink signal lost): no resume can ever come for a link that is gone.
    if (failure.type === linearFailureTypes.linkNotFound && patched('linear-sync-ends-when-link-gone')) {
      unlinked = true;
      return;
    }
    const reason = { code: failure.type ?? 'Error', reason: failure.message };
    // Paused before the mark is written: a resume sent as soon as the link shows failed must find it paused.
    paused = reason;
    await acts.markLinkFailed({ ...ref, ...reason });
  };

  const continueAsNew = async () => {
    await condition(allHandlersFinished);
    const next: LinearSyncInput = {
      ...input,
      carried: {
        pending: [...pending],
        recentDeliveries: [...recent],
        paused,
        runs: carried.runs + 1,
        changesApplied,
      },
    };
    return makeContinueAsNewFunc<typeof linearSyncWorkflow>({
      typedSearchAttributes: workflowInfo().typedSearchAttributes,
    })(next);
  };

  for (;;) {
    if (unlinked) break;
    if (paused) {
      await condition(() => resumeRequested || unlinked || workflowInfo().continueAsNewSuggested);
      if (unlinked) break;
      if (!resumeRequested) return continueAsNew();
      resumeRequested = false;
      try {
        await acts.markLinkPending(ref);
      } catch (err) {
        await pauseOn(err);
        continue;
      }
      paused = null;
      reconcileDue = true;
    }
    if (changesThisRun >= maxChanges || workflowInfo().continueAsNewSuggested) return continueAsNew();
    if (pending.length === 0 && !reconcileDue) {
      const wait = reconcileOnSchedule ? Math.max(1, nextReconcileAt - Date.now()) : reconcileIntervalMs;
      const woken = await condition(() => pending.length > 0 || reconcileDue || unlinked, wait);
      if (unlinked) break;
      if (!woken) reconcileDue = true;
    }
    if (reconcileOnSchedule && Date.now() >= nextReconcileAt) reconcileDue = true;

    try {
      const batch = [...pending];
      const toSync: LinearLinkChange[] = [];
      for (const change of batch) {
        // The rest waits for the next run, carried over.
        if (changesThisRun >= maxChanges) break;
        if ((await handleAlone(change)) === 'done') remove([change]);
        else toSync.push(change);
      }
      if (toSync.length > 0 || reconcileDue) {
        const reconcile = reconcileDue;
        reconcileDue = false;
        try {
          if (!(await syncStep(reconcile))) break;
        } catch (err) {
          // The step did not complete: look again once the link is healthy.
          if (reconcile) reconcileDue = true;
          throw err;
        }
        remove(toSync);
      }
    } catch (err) {
      await pauseOn(err);
    }
  }
  await condition(allHandlersFinished);
}

/** Workflow time as ISO (deterministic: the time of the current workflow task). */
function now(): string {
  return new Date().toISOString();
}
