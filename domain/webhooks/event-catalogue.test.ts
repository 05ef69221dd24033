import assert from 'node:assert/strict';
import { webhookBody } from '../../activities/webhooks/enqueue.ts';
import { ticketEventPayloads, ticketEventTypes } from '../../common/ticket-events.ts';
import {
  allWebhookEventTypes,
  WEBHOOK_TEST_EVENT,
  webhookEnvelopeSchema,
  webhookEventTypes,
} from './event-catalogue.ts';

describe('the webhook event catalogue', () => {
  it('offers every ticket event type, then webhook.test, each described', () => {
    const types = webhookEventTypes();
    assert.deepEqual(
      types.map((t) => t.type),
      [...ticketEventTypes, WEBHOOK_TEST_EVENT],
    );
    for (const t of types) assert.ok(t.description.length > 20, t.type);
  });

  it('derives each data schema from the ticket catalogue, so the documentation follows the payloads', () => {
    const byType = new Map(webhookEventTypes().map((t) => [t.type, t.schema]));
    for (const type of ticketEventTypes) {
      const shape = (ticketEventPayloads[type] as unknown as { shape: Record<string, unknown> }).shape;
      assert.deepEqual(Object.keys((byType.get(type) as { properties: object }).properties), Object.keys(shape), type);
    }
  });

  it('describes the body the delivery engine sends', () => {
    const body = webhookBody('sla.breached', '2026-11-27T08:00:00.000Z', {
      ticket: {
        id: '7a1f0c5e-3b8e-4a51-9c43-0d2b5a9e8f10',
        number: 7,
        subject: 'Printer on fire',
        status: 'open',
        priority: 'urgent',
        assigneeId: null,
        requesterId: null,
        tags: [],
        channel: 'web',
        firstResponseDueAt: null,
        resolutionDueAt: '2026-11-27T08:00:00.000Z',
        version: 3,
      },
      kind: 'resolution',
      dueAt: '2026-11-27T08:00:00.000Z',
    });
    assert.deepEqual(webhookEnvelopeSchema('sla.breached').parse(body), body);
    assert.throws(() => webhookEnvelopeSchema('sla.breached').parse({ ...body, type: 'sla.warning' }));
    assert.deepEqual(allWebhookEventTypes().at(-1), WEBHOOK_TEST_EVENT);
  });
});
