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
import { condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { WebhookActivities } from '../activities/webhooks/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import { DispatchPlan } from './webhook-dispatcher-plan.ts';
import { DEFAULT_BATCH_TIMEOUT_MS, DEFAULT_MAX_BATCH } from './webhook-endpoint.ts';
import {
  batchesEndedSignal,
  dispatcherStateQuery,
  dispatchSignal,
  type WebhookDispatcherInput,
} from './webhook-endpoint-contract.ts';

/** Endpoints per group activity: one activity slot and one completion serve them all. */
export const MAX_GROUP = 100;
/** Groups running at once: each holds an activity slot of a webhooks worker (200 each by default). */
export const MAX_GROUPS_IN_FLIGHT = 50;
/**
 * Endpoints in a batch at once, over all groups: each batch may hold up to its endpoint's concurrency in
 * connections, so this bounds what one burst asks of the workers, as the activity slots bounded the endpoint
 * workflows' batches before (200 per worker).
 */
export const MAX_RUNNING_ENDPOINTS = 200;
export const DEFAULT_GROUPS_PER_RUN = 1000;
/** With nothing waiting or running for this long the dispatcher ends (its next announcement starts it again). */
export const DEFAULT_DISPATCHER_IDLE_MS = 15 * 60 * 1000;

class Dispatcher {
  readonly plan: DispatchPlan;
  private inFlight = 0;
  /** Numbers the groups of this run (a run continues as new only once none runs, so numbers never clash). */
  private groups = 0;
  private readonly activities: WebhookActivities;
  private readonly input: WebhookDispatcherInput;

  constructor(input: WebhookDispatcherInput) {
    this.input = input;
    this.plan = new DispatchPlan(input.carried);
    this.activities = proxyActivities<WebhookActivities>({
      startToCloseTimeout: input.batchTimeoutMs ?? DEFAULT_BATCH_TIMEOUT_MS,
      // A dead worker's group is retried soon; the deliveries it held come back when their leases expire.
      heartbeatTimeout: '30 seconds',
      retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
    });
    setHandler(dispatchSignal, (targets) => this.plan.announce(targets));
    setHandler(batchesEndedSignal, ({ group, outcomes }) => this.plan.batchesEnded(group, outcomes, Date.now()));
    setHandler(dispatcherStateQuery, () => this.plan.state());
  }

  /** Starts groups while endpoints wait, until the run has done its share; then lets the running groups end. */
  async run(): Promise<'idle' | 'continue'> {
    const groupsPerRun = this.input.groupsPerRun ?? DEFAULT_GROUPS_PER_RUN;
    const idleMs = this.input.idleMs ?? DEFAULT_DISPATCHER_IDLE_MS;
    for (let started = 0; started < groupsPerRun && !workflowInfo().continueAsNewSuggested; ) {
      this.plan.release(Date.now());
      const ready = () =>
        this.plan.hasWaiting() &&
        this.inFlight < MAX_GROUPS_IN_FLIGHT &&
        this.plan.runningCount() < MAX_RUNNING_ENDPOINTS;
      // Until something can start, a held endpoint's time comes, or the dispatcher has been idle long enough.
      // A group that ends meanwhile may hold an endpoint back: the wait is then measured again.
      const releaseAt = this.plan.nextReleaseAt();
      const timeout = releaseAt === null ? idleMs : Math.max(1, Math.min(idleMs, releaseAt - Date.now()));
      if (!(await condition(() => ready() || this.plan.nextReleaseAt() !== releaseAt, timeout))) {
        if (this.plan.isIdle()) return 'idle';
        continue;
      }
      if (!ready()) continue;
      this.startGroup(Math.min(MAX_GROUP, MAX_RUNNING_ENDPOINTS - this.plan.runningCount()));
      started++;
    }
    await condition(() => this.inFlight === 0);
    return 'continue';
  }

  private startGroup(size: number): void {
    const group = ++this.groups;
    const targets = this.plan.takeGroup(size, group);
    this.inFlight++;
    this.activities
      .deliverEndpointBatches({ group, endpoints: targets, maxBatch: this.input.maxBatch ?? DEFAULT_MAX_BATCH })
      .then(
        (outcomes) => this.plan.groupEnded(group, targets, outcomes, Date.now()),
        // Only a cancelled activity gets here (its retries are unlimited): its endpoints wait again.
        () => this.plan.groupEnded(group, targets, null, Date.now()),
      )
      .finally(() => {
        this.inFlight--;
      });
  }
}

export async function webhookDispatcherWorkflow(input: WebhookDispatcherInput): Promise<void> {
  const dispatcher = new Dispatcher(input);
  if ((await dispatcher.run()) === 'idle') return;
  await continueAsNewWithHandlersDone<typeof webhookDispatcherWorkflow>(() => [
    { ...input, carried: dispatcher.plan.carry() },
  ]);
}
