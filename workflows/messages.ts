// Signals, queries and inputs of the core workflows: imported by the workflows themselves, by the relay that
// feeds them and by the tests and operators that look inside them.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';

/** One outbox row, delivered by the relay (Signal-With-Start `ticket/<id>`); the event id is the dedupe key. */
export const ticketEventSignal = defineSignal<[DispatchedTicketEvent]>('ticketEvent');
/** Several consecutive events of one ticket, in id order: what the relay sends when a ticket has a backlog. */
export const ticketEventsSignal = defineSignal<[DispatchedTicketEvent[]]>('ticketEvents');

export type TicketWorkflowInput = {
  ticketId: string;
  organizationId: string;
  /** Share of an SLA window after which `sla.warning` fires (per-organisation configuration can feed this later). */
  slaWarningShare?: number;
  /** Applied events per run before continuing as new; Temporal's own suggestion can come sooner. */
  maxEventsPerRun?: number;
  /** Carried over continue-as-new; absent on the first run. */
  carried?: TicketWorkflowCarriedState;
};

/** What one run hands to the next when it continues as new. */
export type TicketWorkflowCarriedState = {
  lastAppliedId: number;
  appliedTotal: number;
  duplicatesDropped: number;
  runs: number;
  recent: AppliedEventRecord[];
};

/** An applied event as operators and tests see it: which subscriptions it went to and which of them failed. */
export type AppliedEventRecord = {
  id: number;
  type: TicketEventType;
  subscribers: string[];
  failed: Array<{ subscriber: string; error: string }>;
};

export type TicketWorkflowState = TicketWorkflowCarriedState & {
  ticketId: string;
  organizationId: string;
  /** Signals received but not applied yet. */
  pending: number;
  appliedThisRun: number;
};

export const ticketStateQuery = defineQuery<TicketWorkflowState>('state');

export type SlaWatchInput = {
  ticketId: string;
  organizationId: string;
  /** In (0, 1): the share of the window (ticket created → due) after which the warning fires. */
  warningShare: number;
};

/** The ticket changed in a way that may move, add or end an SLA deadline: the watch re-reads the ticket. */
export const slaTicketChangedSignal = defineSignal('slaTicketChanged');

export type SlaMilestone = {
  kind: 'first_response' | 'resolution';
  type: 'sla.warning' | 'sla.breached';
  dueAt: string;
  /** When the milestone fires (epoch ms). */
  at: number;
};

export type SlaWatchState = { planned: SlaMilestone[]; emitted: string[]; replans: number };
export const slaStateQuery = defineQuery<SlaWatchState>('state');
