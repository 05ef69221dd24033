// The subscription registry: which integrations want which ticket events. The ticket workflow asks it for every
// event it applies; an integration plugs in by adding its entry below, without touching the ticket workflow.
import type { SearchAttributePair } from '@temporalio/common';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';
import { linearSubscription } from './linear-subscription.ts';
import { slaSubscription } from './sla.ts';
import { webhookSubscription } from './webhook-endpoint.ts';

/** What a subscription knows about the ticket whose workflow is calling it. */
export type SubscriptionContext = {
  ticketId: string;
  organizationId: string;
  /** Per-ticket settings the ticket workflow was started with (e.g. the SLA warning share). */
  settings: { slaWarningShare: number };
  /** The search attributes a workflow started for this ticket must carry, tagged with its integration type. */
  searchAttributes(integrationType: string): SearchAttributePair[];
};

/**
 * One integration's interest in ticket events. `handle` runs inside the ticket workflow, so it is workflow code:
 * deterministic, no I/O; it starts or signals the integration's own workflows or calls activities.
 * A handler that fails with a Temporal failure (an activity or child that failed) is recorded on the event and
 * does not hold back the other subscriptions; any other error is a bug and fails the workflow task, so the
 * ticket waits (and retries) until a fixed worker is deployed instead of skipping events.
 */
export type Subscription = {
  name: string;
  eventTypes: readonly TicketEventType[];
  handle(event: DispatchedTicketEvent, ctx: SubscriptionContext): Promise<void>;
};

/** Order matters only for readability: subscriptions of one event run concurrently. */
export const subscriptions: readonly Subscription[] = [slaSubscription, webhookSubscription, linearSubscription];

export function subscribersOf(registry: readonly Subscription[], type: TicketEventType): Subscription[] {
  return registry.filter((s) => s.eventTypes.includes(type));
}
