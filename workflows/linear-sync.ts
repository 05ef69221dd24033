// One ticket ↔ Linear issue link (`linear-sync/<ticketId>/<issueId>`): the only writer of that link, so changes
// from both sides are applied one after another, in arrival order. Ticket events (from the Linear subscription's
// routing activity) and Linear webhooks (from the API's inbound route) arrive as signals and wait in a queue.
// Comments are mirrored one by one; every other change triggers a *sync step*: read both sides, plan the per-field
// three-way merge (linear-sync-plan.ts), write what the plan says, record what both sides now hold. A step reads
// the current state anyway, so several queued field changes are served by one step, and a change we made ourselves
// (its webhook or its ticket event) finds nothing to do. A periodic reconcile step catches missed webhooks.
// When Linear refuses for good (revoked token, deleted issue) the link is marked failed and the workflow waits for
// `resume` or `unlink`, keeping its queue. The state and the steps are in linear-link.ts, the activities in
// linear-activities.ts.
import { allHandlersFinished, condition, setHandler } from '@temporalio/workflow';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  type LinearSyncInput,
  linearChangeSignal,
  linearChangesSignal,
  linearReconcileSignal,
  linearResumeSignal,
  linearSyncStateQuery,
  linearUnlinkSignal,
} from './linear-contract.ts';
import { LinearLink } from './linear-link.ts';

// The Linear subscription (run by the ticket workflow) has always found its routing activity here.
export { linearLocalActivities } from './linear-activities.ts';

export async function linearSyncWorkflow(input: LinearSyncInput): Promise<void> {
  const link = new LinearLink(input);
  setHandler(linearChangeSignal, (change) => link.enqueue(change));
  // The outbox relay sends all of a batch's events for the link as one signal.
  setHandler(linearChangesSignal, (changes) => {
    for (const change of changes) link.enqueue(change);
  });
  setHandler(linearResumeSignal, () => link.requestResume());
  setHandler(linearUnlinkSignal, () => link.unlink());
  setHandler(linearReconcileSignal, () => link.requestReconcile());
  setHandler(linearSyncStateQuery, () => link.state());

  if ((await link.run()) === 'continue-as-new') {
    return continueAsNewWithHandlersDone<typeof linearSyncWorkflow>(() => [link.nextInput()]);
  }
  await condition(allHandlersFinished);
}
