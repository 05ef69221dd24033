// How every long-lived workflow here ends a run: it lets the signal and update handlers that are still running
// finish (their work would be lost with the run), then starts the next run with the same search attributes, so the
// Temporal Web UI keeps finding the entity by ticket, organisation and integration across runs.
import {
  allHandlersFinished,
  condition,
  makeContinueAsNewFunc,
  type Workflow,
  workflowInfo,
} from '@temporalio/workflow';

/**
 * Continues as new once no handler is running, with the arguments `next` builds then (so what a handler changed
 * while it finished is carried too). Adds no command of its own besides the continue-as-new.
 */
export async function continueAsNewWithHandlersDone<F extends Workflow>(next: () => Parameters<F>): Promise<never> {
  await condition(allHandlersFinished);
  return makeContinueAsNewFunc<F>({ typedSearchAttributes: workflowInfo().typedSearchAttributes })(...next());
}
