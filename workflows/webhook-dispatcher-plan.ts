// The dispatcher's bookkeeping, as pure code: which endpoints wait for a batch, which are in a batch now, which were
// announced again while in one, and which are held back until a time (their receiver asked for a pause, or their
// last batch failed). The rules it keeps:
// - an endpoint is in at most one batch of the dispatcher at a time (its concurrency and rate limit are per batch);
// - every announcement is answered by a batch that starts after it, because the announcement may carry deliveries
//   the running batch will never see;
// - an endpoint held back starts no batch before its time, whatever is announced meanwhile (its batch then answers
//   those announcements too).
import type { DispatchTarget } from './webhook-endpoint-contract.ts';

/**
 * What a group activity reports per endpoint:
 * - `more`: deliveries are due now (its batch stopped with work left);
 * - `pausedUntil`: the receiver asked for a pause (429, 503 with Retry-After), epoch ms;
 * - `failed`: the kind of error its batch threw (a name and code, never a message: no user content in history).
 */
export type DispatchOutcome = { endpointId: string; more: boolean; pausedUntil?: number; failed?: string };

/** A failed batch is tried again after this, doubling per consecutive failure up to RETRY_MAX_MS. */
export const RETRY_FIRST_MS = 1_000;
export const RETRY_MAX_MS = 60_000;

/** An endpoint held back until `until` (epoch ms): after `failures` failed batches in a row, or paused (0). */
export type HeldEndpoint = DispatchTarget & { until: number; failures: number; error?: string };

/** What the dispatcher holds now, by endpoint id. */
export type DispatcherState = {
  waiting: string[];
  running: string[];
  again: string[];
  held: HeldEndpoint[];
  /** Group activities running (the workflow adds it). */
  groupsInFlight?: number;
};

/** What one run hands to the next. */
export type CarriedDispatch = { waiting: DispatchTarget[]; held: HeldEndpoint[] };

export class DispatchPlan {
  /** Announced, not in a batch yet (insertion order: first announced, first served). */
  private readonly waiting = new Map<string, DispatchTarget>();
  /** In a batch now, with the number of the group it runs in. */
  private readonly running = new Map<string, DispatchTarget & { group: string }>();
  /** In a batch now and announced again since it started: it gets another batch when this one ends. */
  private readonly again = new Set<string>();
  private readonly held = new Map<string, HeldEndpoint>();
  /** Failures in a row of the endpoints released from a hold after a failure, until their batch ends. */
  private readonly retried = new Map<string, number>();

  constructor(carried: Partial<CarriedDispatch> = {}) {
    for (const h of carried.held ?? []) this.held.set(h.endpointId, h);
    this.announce(carried.waiting ?? []);
  }

  announce(targets: readonly DispatchTarget[]): void {
    for (const target of targets) {
      const id = target.endpointId;
      if (this.held.has(id)) continue;
      if (this.running.has(id)) this.again.add(id);
      else if (!this.waiting.has(id)) this.waiting.set(id, target);
    }
  }

  /** Endpoints that can start a batch now. */
  hasWaiting(): boolean {
    return this.waiting.size > 0;
  }

  /** Nothing waiting, running or held. */
  isIdle(): boolean {
    return this.waiting.size === 0 && this.running.size === 0 && this.held.size === 0;
  }

  /** When the next held endpoint may start a batch (epoch ms), or null when none is held. */
  nextReleaseAt(): number | null {
    let next: number | null = null;
    for (const h of this.held.values()) if (next === null || h.until < next) next = h.until;
    return next;
  }

  /** Held endpoints whose time has come wait again. */
  release(now: number): void {
    for (const [id, h] of this.held) {
      if (h.until > now) continue;
      this.held.delete(id);
      this.waiting.set(id, { endpointId: h.endpointId, organizationId: h.organizationId });
      if (h.failures > 0) this.retried.set(id, h.failures);
    }
  }

  /** For the dispatcher's query (operators, tests). */
  state(): DispatcherState {
    return {
      waiting: [...this.waiting.keys()],
      running: [...this.running.keys()],
      again: [...this.again],
      held: [...this.held.values()],
    };
  }

  /** Takes up to `max` waiting endpoints into group number `group` and marks them running. */
  takeGroup(max: number, group = ''): DispatchTarget[] {
    const taken: DispatchTarget[] = [];
    for (const [id, target] of this.waiting) {
      if (taken.length >= max) break;
      this.waiting.delete(id);
      this.running.set(id, { ...target, group });
      taken.push(target);
    }
    return taken;
  }

  /**
   * Batches of group `group` ended at `now`, each with its outcome. Their endpoints leave `running`, then:
   * - a failed batch holds its endpoint back for a backoff that doubles per failure in a row;
   * - a paused one holds it back until the receiver's time;
   * - one announced meanwhile, or whose batch reported more due now, waits again.
   * An outcome about an endpoint that is not running in that group (already reported) changes nothing.
   */
  batchesEnded(group: string, outcomes: readonly DispatchOutcome[], now: number): void {
    for (const outcome of outcomes) {
      const id = outcome.endpointId;
      const running = this.running.get(id);
      if (running?.group !== group) continue;
      this.running.delete(id);
      const announced = this.again.delete(id);
      const earlier = this.retried.get(id) ?? 0;
      this.retried.delete(id);
      const { endpointId, organizationId } = running;
      // A hold's batch answers the announcements made meanwhile: it starts after them.
      if (outcome.failed !== undefined) {
        const failures = earlier + 1;
        const until = now + Math.min(RETRY_FIRST_MS * 2 ** (failures - 1), RETRY_MAX_MS);
        this.held.set(id, { endpointId, organizationId, until, failures, error: outcome.failed });
      } else if (outcome.pausedUntil !== undefined && outcome.pausedUntil > now) {
        this.held.set(id, { endpointId, organizationId, until: outcome.pausedUntil, failures: 0 });
      } else if (announced || outcome.more || outcome.pausedUntil !== undefined) {
        this.waiting.set(id, { endpointId, organizationId });
      }
    }
  }

  /**
   * Group `group` (of `targets`) is over, at `now`:
   * - completed (`outcomes`): they apply as batchesEnded's, and an endpoint still running in it without one waits
   *   again;
   * - cancelled (null, before continuing as new): every endpoint still running in it waits again;
   * - failed (`{ failed }`: a timeout, a dead worker; a group has one attempt, so that a retry never runs again an
   *   endpoint released early): every endpoint still running in it is held as if its batch had failed.
   */
  groupEnded(
    group: string,
    targets: readonly DispatchTarget[],
    result: readonly DispatchOutcome[] | { failed: string } | null,
    now: number,
  ): void {
    if (result !== null && !Array.isArray(result)) {
      const failed = (result as { failed: string }).failed;
      const stillRunning = targets.filter((t) => this.running.get(t.endpointId)?.group === group);
      this.batchesEnded(
        group,
        stillRunning.map((t) => ({ endpointId: t.endpointId, more: false, failed })),
        now,
      );
      return;
    }
    if (result) this.batchesEnded(group, result as readonly DispatchOutcome[], now);
    for (const target of targets) {
      const running = this.running.get(target.endpointId);
      if (running?.group !== group) continue;
      this.running.delete(target.endpointId);
      this.again.delete(target.endpointId);
      this.retried.delete(target.endpointId);
      this.waiting.set(target.endpointId, target);
    }
  }

  /**
   * What the next run starts from: everything that waits or runs (the run ends only once no group runs), and every
   * hold with its time.
   */
  carry(): CarriedDispatch {
    const waiting = new Map<string, DispatchTarget>(this.waiting);
    for (const [id, { endpointId, organizationId }] of this.running) {
      if (!waiting.has(id)) waiting.set(id, { endpointId, organizationId });
    }
    return { waiting: [...waiting.values()], held: [...this.held.values()] };
  }
}
