// Hands one outbox event to its ticket workflow: Signal-With-Start `ticket/<ticketId>`, so the first event of a
// ticket starts the workflow and every later one is a signal to the running (or continued) workflow.

import type { ticketEvents } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import type { DispatchedTicketEvent, TicketEventType } from '../common/ticket-events.ts';
import {
  coreIntegrationTypes,
  taskQueues,
  ticketSearchAttributes,
  workflowIds,
  workflowTypes,
} from '../temporal-config/index.ts';
import { type TicketWorkflowInput, ticketEventSignal, ticketEventsSignal } from '../workflows/messages.ts';

export type TicketEventRow = typeof ticketEvents.$inferSelect;

export function toDispatchedEvent(row: TicketEventRow): DispatchedTicketEvent {
  return {
    id: row.id,
    organizationId: row.organizationId,
    ticketId: row.supportRequestId,
    type: row.type as TicketEventType,
    payload: row.payload,
    actor: { type: row.actorType, id: row.actorId },
    createdAt: row.createdAt.toISOString(),
  };
}

export type DispatchOptions = { taskQueue?: string; timeoutMs?: number };

/**
 * Sends consecutive events of ONE ticket (in id order) in one Signal-With-Start: under load this is what keeps
 * the relay ahead of the outbox, as a ticket's backlog costs one round trip instead of one per event.
 * Resolves once Temporal has the signal in the workflow's history; rejects (within timeoutMs) otherwise.
 */
export async function dispatchTicketEvents(
  client: Client,
  events: DispatchedTicketEvent[],
  { taskQueue = taskQueues.tickets, timeoutMs = 5_000 }: DispatchOptions = {},
): Promise<void> {
  const first = events[0];
  if (!first) return;
  if (events.some((e) => e.ticketId !== first.ticketId)) throw new Error("one signal carries one ticket's events");
  const input: TicketWorkflowInput = { ticketId: first.ticketId, organizationId: first.organizationId };
  const options = {
    workflowId: workflowIds.ticket(first.ticketId),
    taskQueue,
    args: [input] as [TicketWorkflowInput],
    typedSearchAttributes: ticketSearchAttributes(first.ticketId, first.organizationId, coreIntegrationTypes.ticket),
  };
  await client.connection.withDeadline(Date.now() + timeoutMs, () =>
    events.length === 1
      ? client.workflow.signalWithStart(workflowTypes.ticket, {
          ...options,
          signal: ticketEventSignal,
          signalArgs: [first],
        })
      : client.workflow.signalWithStart(workflowTypes.ticket, {
          ...options,
          signal: ticketEventsSignal,
          signalArgs: [events],
        }),
  );
}

export function dispatchTicketEvent(client: Client, event: DispatchedTicketEvent, options?: DispatchOptions) {
  return dispatchTicketEvents(client, [event], options);
}

/**
 * Splits one ticket's events into signals that stay far below Temporal's 2 MB payload limit (and a count cap),
 * so batching never turns deliverable events into an undeliverable signal. An event too large on its own travels
 * alone (and fails alone).
 */
export function chunkForSignals<T extends { payload: unknown }>(
  events: T[],
  { maxEvents = 50, maxBytes = 256 * 1024 } = {},
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const event of events) {
    const size = JSON.stringify(event.payload ?? null).length;
    if (current.length > 0 && (current.length >= maxEvents || bytes + size > maxBytes)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(event);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}
