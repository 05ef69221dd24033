// Webhooks as a queue-like subscriber of the outbox relay: the whole batch becomes messages and deliveries in a
// few set-based statements, then each endpoint with new work gets one wake for the batch. No Temporal operation per
// event: an event that only webhooks want costs one wake per endpoint per batch, however many events it carries.
import type { RelaySubscriber } from '../../common/integration-contract.ts';
import { webhooksTaskQueueFor } from '../../workflows/webhook-endpoint-contract.ts';
import { fanOutDeliveries } from './enqueue.ts';
import { wakeEndpoint } from './wake.ts';

export function webhooksRelaySubscriber(options: { payloadLimitBytes: number }): RelaySubscriber {
  return {
    name: 'webhooks',
    kind: 'queue',
    async plan(events, ctx) {
      const { endpoints } = await fanOutDeliveries(ctx.db, events, options.payloadLimitBytes);
      const taskQueue = webhooksTaskQueueFor(ctx.ticketsTaskQueue);
      // A listening endpoint's batch was notified by the fan-out itself: no Temporal operation at all.
      return endpoints
        .filter((endpoint) => !endpoint.listening)
        .map((endpoint) => ({
          target: `webhook-endpoint/${endpoint.endpointId}`,
          ticketIds: endpoint.ticketIds,
          send: () =>
            ctx.temporal.connection.withDeadline(ctx.deadline(), () =>
              wakeEndpoint(ctx.temporal, endpoint.endpointId, endpoint.organizationId, { taskQueue }),
            ),
        }));
    },
  };
}
