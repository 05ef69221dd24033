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
import { type TicketWorkflowInput, ticketEventSignal } from '../workflows/messages.ts';

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

/** Resolves once Temporal has the signal in the workflow's history; rejects (within timeoutMs) otherwise. */
export async function dispatchTicketEvent(
  client: Client,
  event: DispatchedTicketEvent,
  { taskQueue = taskQueues.tickets, timeoutMs = 5_000 }: DispatchOptions = {},
): Promise<void> {
  const input: TicketWorkflowInput = { ticketId: event.ticketId, organizationId: event.organizationId };
  await client.connection.withDeadline(Date.now() + timeoutMs, () =>
    client.workflow.signalWithStart(workflowTypes.ticket, {
      workflowId: workflowIds.ticket(event.ticketId),
      taskQueue,
      args: [input],
      signal: ticketEventSignal,
      signalArgs: [event],
      typedSearchAttributes: ticketSearchAttributes(event.ticketId, event.organizationId, coreIntegrationTypes.ticket),
    }),
  );
}
