// The webhook dispatcher (`webhook-dispatcher/<webhooks task queue>`): the batches of endpoints whose deliveries
// are due now, many endpoints to an activity. The relay's fan-out, the API's resends and the notification channel
// announce endpoints here (one signal for a whole relay batch), where each used to wake the endpoint's own workflow:
// at 100 endpoints those per-endpoint workflows, wakes and activities were what ran out, not the batches
// (specification/performance.md, 2026-12-04). Each endpoint's batch is the same as in its own workflow (leases,
// lanes, rate limit, throttling, disabling, listening); an endpoint is in one batch of the dispatcher at a time, and
// one announced during its batch gets another after it. Retries due later go back to the endpoint's own workflow,
// which keeps the timer (the group activity wakes it) and announces the endpoint here when they fall due, so every
// batch of an endpoint runs here. An endpoint whose receiver asked for a pause (429 with Retry-After) is held here
// until then, and one whose batch threw (a database error) is tried again after a backoff; the `state` query shows
// both, while the other endpoints go on.
//
// The announcements are signals, so they are in the history: a worker that dies mid-group loses nothing, since
// Temporal retries the group's activity, and a run that continues as new carries what still waits.
import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import { type DispatchOutcome, DispatchPlan } from './webhook-dispatcher-plan.ts';
import { DEFAULT_BATCH_TIMEOUT_MS, DEFAULT_MAX_BATCH } from './webhook-endpoint.ts';
import {
  batchesEndedSignal,
  type DispatchTarget,
  dispatcherStateQuery,
  dispatchSignal,
  type WebhookDispatcherInput,
} from './webhook-endpoint-contract.ts';

/** Endpoints per group activity: one activity slot and one completion serve them all. */
export const MAX_GROUP = 100;
/**
 * Groups running at once, under Temporal's limit of pending activities per workflow (2,000). Not a throttle: each
 * worker bounds its own share (its activity slots, and the batches it runs at once, maxDispatchedBatches), so a
 * group held up by a slow or listening batch never keeps other endpoints from starting theirs.
 */
export const MAX_GROUPS_IN_FLIGHT = 1000;
export const DEFAULT_GROUPS_PER_RUN = 1000;
/** With nothing waiting or running for this long the dispatcher ends (its next announcement starts it again). */
export const DEFAULT_DISPATCHER_IDLE_MS = 15 * 60 * 1000;

const isTarget = (t: unknown): t is DispatchTarget =>
  typeof (t as DispatchTarget)?.endpointId === 'string' && typeof (t as DispatchTarget)?.organizationId === 'string';
const isOutcome = (o: unknown): o is DispatchOutcome =>
  typeof (o as DispatchOutcome)?.endpointId === 'string' && typeof (o as DispatchOutcome)?.more === 'boolean';

class Dispatcher {
  readonly plan: DispatchPlan;
  private inFlight = 0;
  private groups = 0;
  private readonly groupScopes = new Set<CancellationScope>();
  private readonly activities: WebhookActivities;
  private readonly input: WebhookDispatcherInput;

  constructor(input: WebhookDispatcherInput) {
    this.input = input;
    this.plan = new DispatchPlan(input.carried);
    this.activities = proxyActivities<WebhookActivities>({
      startToCloseTimeout: input.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS,
      // A dead worker's group fails after this and its endpoints get a new group; the deliveries it held come back
      // when their leases expire. Long enough that a live worker cut off from Temporal for a moment keeps its group
      // (a new one would run beside it). Its heartbeats go out every 5 s (the worker's heartbeatThrottleMs), so a
      // cancellation (drain) reaches it within that.
      heartbeatTimeout: '30 seconds',
      // A cancelled group is over only once its batches have stopped: the next run must not start theirs meanwhile.
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
      // One attempt: a retry would run again the batches of endpoints the group already released (batchesEnded), next
      // to their new ones. A failed group's endpoints are held for a backoff and then get a new group instead.
      retry: { maximumAttempts: 1 },
    });
    // Checked, because one malformed signal must not fail every task of the one dispatcher of the queue.
    setHandler(dispatchSignal, (targets) => this.plan.announce(Array.isArray(targets) ? targets.filter(isTarget) : []));
    setHandler(batchesEndedSignal, (ended) => {
      if (typeof ended?.group === 'string' && Array.isArray(ended.outcomes))
        this.plan.batchesEnded(ended.group, ended.outcomes.filter(isOutcome), Date.now());
    });
    setHandler(dispatcherStateQuery, () => ({ ...this.plan.state(), groupsInFlight: this.inFlight }));
  }

  /** Starts groups while endpoints wait, until the run has done its share; then lets the running groups end. */
  async run(): Promise<'idle' | 'continue'> {
    const groupsPerRun = this.input.groupsPerRun ?? DEFAULT_GROUPS_PER_RUN;
    const idleMs = this.input.idleMs ?? DEFAULT_DISPATCHER_IDLE_MS;
    for (let started = 0; started < groupsPerRun && !workflowInfo().continueAsNewSuggested; ) {
      this.plan.release(Date.now());
      const ready = () => this.plan.hasWaiting() && this.inFlight < MAX_GROUPS_IN_FLIGHT;
      // Until something can start, a held endpoint's time comes, or the dispatcher has been idle long enough.
      // A group that ends meanwhile may hold an endpoint back: the wait is then measured again.
      const releaseAt = this.plan.nextReleaseAt();
      const timeout = releaseAt === null ? idleMs : Math.max(1, Math.min(idleMs, releaseAt - Date.now()));
      const changed = () => ready() || this.plan.nextReleaseAt() !== releaseAt || workflowInfo().continueAsNewSuggested;
      if (!(await condition(changed, timeout))) {
        if (this.plan.isIdle()) return 'idle';
        continue;
      }
      if (!ready()) continue;
      this.startGroup();
      started++;
    }
    await this.drain();
    return 'continue';
  }

  private startGroup(): void {
    // Unique across runs: a group's attempt that outlived its run (a worker that hung) cannot release endpoints of
    // the next run's group of the same number.
    const group = `${workflowInfo().runId}/${++this.groups}`;
    const targets = this.plan.takeGroup(MAX_GROUP, group);
    const scope = new CancellationScope();
    this.groupScopes.add(scope);
    this.inFlight++;
    scope
      .run(() =>
        this.activities.deliverEndpointBatches({
          group,
          endpoints: targets,
          maxBatch: this.input.maxBatch ?? DEFAULT_MAX_BATCH,
        }),
      )
      .then(
        (outcomes) => this.plan.groupEnded(group, targets, outcomes, Date.now()),
        (error) =>
          this.plan.groupEnded(
            group,
            targets,
            // Cancelled before continuing as new: its endpoints wait again, and are carried. Failed (timed out, its
            // worker died): they are held for a backoff, then get a new group.
            isCancellation(error) ? null : { failed: error instanceof ActivityFailure ? 'GroupFailed' : 'Error' },
            Date.now(),
          ),
      )
      .finally(() => {
        this.inFlight--;
        this.groupScopes.delete(scope);
      });
  }

  /**
   * Before continuing as new: asks the running groups to stop (their batches stop claiming, finish what is on the
   * wire and give back the rest) and waits until each has, rather than for a listening batch's quiet time.
   */
  async drain(): Promise<void> {
    for (const scope of this.groupScopes) scope.cancel();
    await condition(() => this.inFlight === 0);
  }
}

export async function webhookDispatcherWorkflow(input: WebhookDispatcherInput): Promise<void> {
  const dispatcher = new Dispatcher(input);
  if ((await dispatcher.run()) === 'idle') return;
  await continueAsNewWithHandlersDone<typeof webhookDispatcherWorkflow>(() => [
    { ...input, carried: dispatcher.plan.carry() },
  ]);
}
