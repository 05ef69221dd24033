// A workflow bundle for the registry tests: the real ticket workflow with two extra subscriptions plugged in the
// way an integration plugs in (an entry with event types and a handler that calls its activity). Nothing in
// workflows/ticket.ts knows about them.
import { proxyActivities } from '@temporalio/workflow';
import { type Subscription, subscriptions } from '../../workflows/registry.ts';
import { createTicketWorkflow } from '../../workflows/ticket.ts';

export { slaWatchWorkflow } from '../../workflows/sla.ts';

export type ProbeActivities = {
  recordProbe(subscription: string, eventId: number, eventType: string): Promise<void>;
  failProbe(eventId: number): Promise<void>;
};

const probe = proxyActivities<ProbeActivities>({ startToCloseTimeout: '10 seconds', retry: { maximumAttempts: 1 } });

const commentsProbe: Subscription = {
  name: 'comments-probe',
  eventTypes: ['comment.created'],
  handle: (event) => probe.recordProbe('comments-probe', event.id, event.type),
};

const failingProbe: Subscription = {
  name: 'failing-probe',
  eventTypes: ['ticket.updated'],
  handle: (event) => probe.failProbe(event.id),
};

export const ticketWorkflow = createTicketWorkflow([...subscriptions, commentsProbe, failingProbe]);
