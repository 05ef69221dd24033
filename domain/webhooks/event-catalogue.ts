// What a webhook endpoint can receive: every ticket event type, plus `webhook.test`, which is sent only when someone
// asks for a test delivery. The payload schemas come from the ticket event catalogue, so the JSON Schema shown to
// integrators (event-types endpoint, OpenAPI components) cannot drift from what the outbox actually carries.
import { type TicketEventType, ticketEventPayloads, ticketEventTypes } from '../../common/ticket-events.ts';
import { z } from '../zod.ts';

export const WEBHOOK_TEST_EVENT = 'webhook.test';

export const webhookTestPayload = z.object({
  endpointId: z.uuid(),
  message: z.string(),
});

/** Types an endpoint may subscribe to. `webhook.test` is not one: a test goes to the endpoint it was sent to. */
export const subscribableEventTypes: readonly TicketEventType[] = ticketEventTypes;

const descriptions: Record<TicketEventType | typeof WEBHOOK_TEST_EVENT, string> = {
  'ticket.created': 'A ticket was opened (from the web, email, Slack or the API).',
  'ticket.updated': 'Ticket fields changed; `changes` maps each changed field to its old and new value.',
  'ticket.status_changed': 'The status moved (also reported in ticket.updated).',
  'ticket.assigned': 'The assignee changed (also reported in ticket.updated); null means unassigned.',
  'comment.created':
    'A comment or internal note (isPublic false) was added to a ticket; `comment` carries its text (body), author ' +
    '(type, id, name) and visibility. Endpoints with excludeInternalNotes never receive internal notes.',
  'sla.warning': 'An SLA target is close: elapsedShare of the time allowed has passed.',
  'sla.breached': 'An SLA target was missed.',
  'attachment.uploaded': 'A file was attached to a ticket and waits for its virus scan (nothing serves it yet).',
  'attachment.available': 'A file passed its virus scan and was stored encrypted: it can be downloaded.',
  'attachment.blocked': 'A file was found infected: it was deleted and is never served; `signature` names the virus.',
  'attachment.failed':
    'A file could not be processed for good (for example its storage refused it); `reason` says why.',
  'attachment.deleted': 'A file was deleted from a ticket.',
  [WEBHOOK_TEST_EVENT]:
    'Sent only by "send test event" (POST /api/webhooks/endpoints/{id}/test), to that endpoint, whatever it subscribes to.',
};

const payloadSchemas: Record<string, z.ZodType> = { ...ticketEventPayloads, [WEBHOOK_TEST_EVENT]: webhookTestPayload };

export type WebhookEventTypeInfo = { type: string; description: string; schema: Record<string, unknown> };

/** The `data` of each event type as JSON Schema, subscribable types first, then webhook.test. */
export function webhookEventTypes(): WebhookEventTypeInfo[] {
  return [...subscribableEventTypes, WEBHOOK_TEST_EVENT].map((type) => ({
    type,
    description: descriptions[type as keyof typeof descriptions],
    schema: z.toJSONSchema(payloadSchemas[type]!, { io: 'output', unrepresentable: 'any' }) as Record<string, unknown>,
  }));
}

/** The envelope of one event type with its `data` schema, for the OpenAPI document's components. */
export function webhookEnvelopeSchema(type: string) {
  const data = payloadSchemas[type];
  if (!data) throw new Error(`unknown webhook event type ${type}`);
  return z.object({
    type: z.literal(type),
    timestamp: z.iso.datetime({ offset: true }).describe('When the event happened (ISO 8601, UTC)'),
    data,
  });
}

export function allWebhookEventTypes(): string[] {
  return [...subscribableEventTypes, WEBHOOK_TEST_EVENT];
}
