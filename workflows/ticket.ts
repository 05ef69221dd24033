// The ticket workflow (`ticket/<ticketId>`): one long-lived entity per ticket that receives the ticket's outbox
// events from the relay, applies each exactly once and in id order, and hands it to every integration that
// subscribed to its type. Its history is kept short by continuing as new; what it must remember is tiny.
import { allHandlersFinished, condition, log, setHandler, TemporalFailure, workflowInfo } from '@temporalio/workflow';
import type { DispatchedTicketEvent } from '../common/ticket-events.ts';
import { ticketSearchAttributes } from '../temporal-config/index.ts';
import { continueAsNewWithHandlersDone } from './continue-as-new.ts';
import {
  type AppliedEventRecord,
  type TicketWorkflowCarriedState,
  type TicketWorkflowInput,
  ticketEventSignal,
  ticketEventsSignal,
  ticketStateQuery,
} from './messages.ts';
import { type Subscription, type SubscriptionContext, subscribersOf, subscriptions } from './registry.ts';
import { DEFAULT_SLA_WARNING_SHARE } from './sla.ts';

/** Events applied per run before continuing as new (Temporal may suggest it sooner on a large history). */
export const DEFAULT_MAX_EVENTS_PER_RUN = 500;
/** How many applied events the `state` query shows. */
export const RECENT_EVENTS_KEPT = 50;

/** Builds the workflow for a registry; the worker runs it with the real one, tests may add probes. */
export function createTicketWorkflow(registry: readonly Subscription[]) {
  return async function ticketWorkflow(input: TicketWorkflowInput): Promise<never> {
    const state: TicketWorkflowCarriedState = input.carried
      ? { ...input.carried, runs: input.carried.runs + 1 }
      : { lastAppliedId: 0, appliedTotal: 0, duplicatesDropped: 0, runs: 1, recent: [] };
    // Signals that arrive while an event is being applied wait here, kept in id order.
    const pending: DispatchedTicketEvent[] = [];
    let appliedThisRun = 0;

    setHandler(ticketEventSignal, (event) => insertInIdOrder(pending, event));
    setHandler(ticketEventsSignal, (events) => {
      for (const event of events) insertInIdOrder(pending, event);
    });
    setHandler(ticketStateQuery, () => ({
      ...state,
      recent: [...state.recent],
      ticketId: input.ticketId,
      organizationId: input.organizationId,
      pending: pending.length,
      appliedThisRun,
    }));

    const ctx: SubscriptionContext = {
      ticketId: input.ticketId,
      organizationId: input.organizationId,
      settings: { slaWarningShare: input.slaWarningShare ?? DEFAULT_SLA_WARNING_SHARE },
      searchAttributes: (integrationType) =>
        ticketSearchAttributes(input.ticketId, input.organizationId, integrationType),
    };
    const maxEventsPerRun = input.maxEventsPerRun ?? DEFAULT_MAX_EVENTS_PER_RUN;
    const timeToContinueAsNew = () => appliedThisRun >= maxEventsPerRun || workflowInfo().continueAsNewSuggested;

    for (;;) {
      await condition(() => pending.length > 0 || timeToContinueAsNew());
      const event = pending.shift();
      if (event === undefined) {
        // Nothing is buffered and the run is long enough. A signal delivered in this same activation would have
        // been buffered above before this line runs, so continuing now loses nothing.
        await condition(allHandlersFinished);
        if (pending.length > 0) continue;
        break;
      }
      // Ids are allocated under the ticket row lock, so per ticket they only grow: anything at or below the last
      // applied id is a redelivery (relay retry, second relay) of an event already applied.
      if (event.id <= state.lastAppliedId) {
        state.duplicatesDropped += 1;
        continue;
      }
      const record = await fanOut(registry, event, ctx);
      state.lastAppliedId = event.id;
      state.appliedTotal += 1;
      state.recent = [...state.recent, record].slice(-RECENT_EVENTS_KEPT);
      appliedThisRun += 1;
    }

    return continueAsNewWithHandlersDone<(input: TicketWorkflowInput) => Promise<never>>(() => [
      { ...input, carried: state },
    ]);
  };
}

export const ticketWorkflow = createTicketWorkflow(subscriptions);

async function fanOut(
  registry: readonly Subscription[],
  event: DispatchedTicketEvent,
  ctx: SubscriptionContext,
): Promise<AppliedEventRecord> {
  const subscribers = subscribersOf(registry, event.type);
  const failed: AppliedEventRecord['failed'] = [];
  await Promise.all(
    subscribers.map(async (subscription) => {
      try {
        await subscription.handle(event, ctx);
      } catch (err) {
        if (!(err instanceof TemporalFailure)) throw err;
        log.warn('subscription failed on ticket event', {
          subscription: subscription.name,
          eventId: event.id,
          eventType: event.type,
          error: err.message,
        });
        failed.push({ subscriber: subscription.name, error: err.message });
      }
    }),
  );
  return { id: event.id, type: event.type, subscribers: subscribers.map((s) => s.name), failed };
}

function insertInIdOrder(pending: DispatchedTicketEvent[], event: DispatchedTicketEvent): void {
  let at = pending.length;
  while (at > 0 && pending[at - 1]!.id > event.id) at -= 1;
  pending.splice(at, 0, event);
}
