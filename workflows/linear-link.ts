// The state and the steps of one link's workflow (linear-sync.ts): the queue of changes from both sides, the last
// synced values, whether the link is paused, and the sync step that applies them. Signal handlers only record
// (enqueue, ask to resume, ask to reconcile); `run` does the work, one change or one step at a time, so the link
// has exactly one writer however the signals interleave.
import { ActivityFailure, ApplicationFailure, condition, patched, workflowInfo } from '@temporalio/workflow';
import { type LinkRef, linearFailureTypes } from '../activities/linear/contract.ts';
import { type LinkActivities, linkActivities } from './linear-activities.ts';
import type { LinearLinkChange, LinearSyncCarried, LinearSyncInput, LinearSyncState } from './linear-contract.ts';
import { planSync, type SyncedValues, settleAssignee, ticketEventNeedsSync } from './linear-sync-plan.ts';

export const DEFAULT_RECONCILE_INTERVAL_MS = 10 * 60 * 1000;
export const DEFAULT_MAX_CHANGES_PER_RUN = 200;
/** Delivery ids remembered for de-duplication; Linear redelivers within hours, by then the id is long applied. */
const RECENT_DELIVERIES = 500;
/** Our own recent writes remembered, to recognise their webhooks. */
const OWN_WRITES_KEPT = 20;

/** How a run ends: the link was removed, or its history is long enough to continue as new. */
export type LinkRunOutcome = 'unlinked' | 'continue-as-new';

export class LinearLink {
  private readonly acts: LinkActivities = linkActivities();
  private readonly ref: LinkRef;
  private readonly maxChanges: number;
  private readonly runs: number;
  private readonly pending: LinearLinkChange[];
  private readonly recent: string[];
  private readonly seen: Set<string>;
  private paused: LinearSyncCarried['paused'];
  private changesApplied: number;
  private changesThisRun = 0;
  private reconciles = 0;
  private lastSynced: SyncedValues | null = null;
  private reconcileIntervalMs: number;
  // Every run starts by looking: the first links the two sides, later ones cover whatever happened around the
  // continue-as-new.
  private reconcileDue = true;
  // The next reconcile is due at a fixed time, not after a quiet interval: on a busy link the quiet interval never
  // comes, and only a reconcile imports Linear comments whose webhooks were missed. (Runs started before this was
  // so keep the quiet interval, for replay.)
  private readonly reconcileOnSchedule: boolean;
  private nextReconcileAt: number;
  private resumeRequested = false;
  /** updatedAt of the issue after each of our recent writes (epoch ms). */
  private readonly ownWrites: number[] = [];
  private unlinked = false;

  private readonly input: LinearSyncInput;

  constructor(input: LinearSyncInput) {
    this.input = input;
    this.ref = { organizationId: input.organizationId, linkId: input.linkId };
    this.maxChanges = input.maxChangesPerRun ?? DEFAULT_MAX_CHANGES_PER_RUN;
    const carried: LinearSyncCarried = input.carried ?? {
      pending: [],
      recentDeliveries: [],
      paused: null,
      runs: 0,
      changesApplied: 0,
    };
    this.runs = carried.runs;
    this.pending = [...carried.pending];
    this.recent = [...carried.recentDeliveries];
    this.seen = new Set(this.recent);
    this.paused = carried.paused;
    this.changesApplied = carried.changesApplied;
    this.reconcileIntervalMs = input.reconcileIntervalMs ?? DEFAULT_RECONCILE_INTERVAL_MS;
    this.reconcileOnSchedule = patched('linear-sync-reconcile-on-schedule');
    this.nextReconcileAt = Date.now() + this.reconcileIntervalMs;
  }

  // --- what the handlers call: they only record ---

  enqueue(change: LinearLinkChange): void {
    if (change.kind === 'linear-webhook') {
      // Linear redelivers when it did not see our 200 in time; the second copy is the same change.
      if (this.seen.has(change.change.deliveryId)) return;
      this.seen.add(change.change.deliveryId);
      this.recent.push(change.change.deliveryId);
      if (this.recent.length > RECENT_DELIVERIES) this.seen.delete(this.recent.shift()!);
    }
    this.pending.push(change);
  }

  requestResume(): void {
    // Only a paused link can resume: remembered on a healthy one, it would undo the next pause at once.
    if (this.paused) this.resumeRequested = true;
  }

  unlink(): void {
    this.unlinked = true;
  }

  requestReconcile(): void {
    this.reconcileDue = true;
  }

  state(): LinearSyncState {
    return {
      linkId: this.input.linkId,
      issueId: this.input.issueId,
      pending: this.pending.length,
      paused: this.paused,
      lastSynced: this.lastSynced,
      changesApplied: this.changesApplied,
      reconciles: this.reconciles,
      runs: this.runs + 1,
    };
  }

  /** The next run's input: this one's, with the queue and what the link remembers. */
  nextInput(): LinearSyncInput {
    return {
      ...this.input,
      carried: {
        pending: [...this.pending],
        recentDeliveries: [...this.recent],
        paused: this.paused,
        runs: this.runs + 1,
        changesApplied: this.changesApplied,
      },
    };
  }

  // --- the work ---

  /** Applies changes and reconciles until the link is removed or the run is long enough. */
  async run(): Promise<LinkRunOutcome> {
    for (;;) {
      if (this.unlinked) return 'unlinked';
      if (this.paused) {
        const next = await this.waitForResume();
        if (next === 'paused') continue;
        if (next !== 'resumed') return next;
      }
      if (this.changesThisRun >= this.maxChanges || workflowInfo().continueAsNewSuggested) return 'continue-as-new';
      if (this.pending.length === 0 && !this.reconcileDue) {
        const wait = this.reconcileOnSchedule
          ? Math.max(1, this.nextReconcileAt - Date.now())
          : this.reconcileIntervalMs;
        const woken = await condition(() => this.pending.length > 0 || this.reconcileDue || this.unlinked, wait);
        if (this.unlinked) return 'unlinked';
        if (!woken) this.reconcileDue = true;
      }
      if (this.reconcileOnSchedule && Date.now() >= this.nextReconcileAt) this.reconcileDue = true;

      try {
        if (!(await this.applyPending())) return 'unlinked';
      } catch (err) {
        await this.pauseOn(err);
      }
    }
  }

  /** Paused: waits for a resume (then marks the link pending again), an unlink, or the end of the run. */
  private async waitForResume(): Promise<LinkRunOutcome | 'resumed' | 'paused'> {
    await condition(() => this.resumeRequested || this.unlinked || workflowInfo().continueAsNewSuggested);
    if (this.unlinked) return 'unlinked';
    if (!this.resumeRequested) return 'continue-as-new';
    this.resumeRequested = false;
    try {
      await this.acts.markLinkPending(this.ref);
    } catch (err) {
      await this.pauseOn(err);
      return 'paused';
    }
    this.paused = null;
    this.reconcileDue = true;
    return 'resumed';
  }

  /** Serves the queue as it is now: alone what needs no step, the rest with one sync step. False: the link is gone. */
  private async applyPending(): Promise<boolean> {
    const toSync: LinearLinkChange[] = [];
    for (const change of [...this.pending]) {
      // The rest waits for the next run, carried over.
      if (this.changesThisRun >= this.maxChanges) break;
      if ((await this.handleAlone(change)) === 'done') this.remove([change]);
      else toSync.push(change);
    }
    if (toSync.length === 0 && !this.reconcileDue) return true;
    const reconcile = this.reconcileDue;
    this.reconcileDue = false;
    try {
      if (!(await this.syncStep(reconcile))) return false;
    } catch (err) {
      // The step did not complete: look again once the link is healthy.
      if (reconcile) this.reconcileDue = true;
      throw err;
    }
    this.remove(toSync);
    return true;
  }

  private remove(done: readonly LinearLinkChange[]): void {
    for (const change of done) {
      const at = this.pending.indexOf(change);
      if (at >= 0) this.pending.splice(at, 1);
    }
    this.changesApplied += done.length;
    this.changesThisRun += done.length;
  }

  /** Reads both sides, applies the plan, records the result. False: the link is gone. */
  private async syncStep(reconcile: boolean): Promise<boolean> {
    const { acts, ref } = this;
    const snapshot = await acts.readLinkSnapshot(ref);
    if (snapshot.link === 'unlinked') return false;
    if (this.input.reconcileIntervalMs === undefined) this.reconcileIntervalMs = snapshot.settings.reconcileIntervalMs;
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
      this.ownWrites.push(Date.parse(written.updatedAt));
      if (this.ownWrites.length > OWN_WRITES_KEPT) this.ownWrites.shift();
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
        this.reconcileDue = true;
        return true;
      }
      if (written.assigneeEmail !== undefined) ticketAssigneeEmail = written.assigneeEmail;
    }
    const synced = settleAssignee(plan.synced, plan, { ticketAssigneeEmail, linearAssigneeEmail });
    await acts.recordSyncState({ ...ref, synced, issue, conflicts: plan.conflicts });
    this.lastSynced = synced;
    if (reconcile) {
      this.reconciles += 1;
      this.nextReconcileAt = Date.now() + this.reconcileIntervalMs;
      for (const comment of snapshot.unmappedLinearComments) {
        await acts.importLinearComment({ ...ref, comment });
      }
    }
    return true;
  }

  /** A change that needs no sync step: a comment, or an issue webhook older than what we already saw. */
  private async handleAlone(change: LinearLinkChange): Promise<'done' | 'sync'> {
    const { acts, ref } = this;
    if (change.kind === 'ticket-event') {
      const { event } = change;
      if (event.type !== 'comment.created') return ticketEventNeedsSync(event, this.lastSynced) ? 'sync' : 'done';
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
    if (this.lastSynced !== null && at <= Date.parse(this.lastSynced.issueUpdatedAt)) return 'done';
    if (this.ownWrites.includes(at)) return 'done';
    return 'sync';
  }

  /** A step failed for good: pause with the reason (or end, if the link is gone). Anything else is rethrown. */
  private async pauseOn(err: unknown): Promise<void> {
    const failure = err instanceof ActivityFailure ? err.cause : err;
    if (!(failure instanceof ApplicationFailure)) throw err;
    // Unlinked while the step ran (and the unlink signal lost): no resume can ever come for a link that is gone.
    if (failure.type === linearFailureTypes.linkNotFound && patched('linear-sync-ends-when-link-gone')) {
      this.unlinked = true;
      return;
    }
    const reason = { code: failure.type ?? 'Error', reason: failure.message };
    // Paused before the mark is written: a resume sent as soon as the link shows failed must find it paused.
    this.paused = reason;
    await this.acts.markLinkFailed({ ...this.ref, ...reason });
  }
}

/** Workflow time as ISO (deterministic: the time of the current workflow task). */
function now(): string {
  return new Date().toISOString();
}
