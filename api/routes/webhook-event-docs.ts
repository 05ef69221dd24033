// What an integrator receives, in the OpenAPI document: each event type's body as a component schema
// (WebhookEvent_ticket.created, …) and as an OpenAPI 3.1 `webhooks` entry that documents the signing headers,
// the retry rules and the payload limit.
import { z } from 'zod';
import {
  allWebhookEventTypes,
  webhookEnvelopeSchema,
  webhookEventTypes,
} from '../../domain/webhooks/event-catalogue.ts';
import { registry } from '../openapi/registry.ts';

export const SIGNING_AND_DELIVERY = [
  'Each event is a POST with a JSON body { type, timestamp, data }, signed per Standard Webhooks ' +
    '(https://www.standardwebhooks.com): webhook-id is the message id (the same on every retry: use it to ' +
    'deduplicate), webhook-timestamp is Unix seconds at sending, webhook-signature is "v1,<base64 HMAC-SHA256 of ' +
    '"<webhook-id>.<webhook-timestamp>.<body>" keyed with the base64-decoded part of your whsec_ secret>", several ' +
    'space-separated during a secret rotation (accept the request if any one verifies).',
  'Answer 2xx within 15 seconds (the default request timeout) to acknowledge. Anything else is a failure: 3xx redirects are not followed, 410 Gone ' +
    'disables the endpoint, 429/502/503/504 may send Retry-After. Failed deliveries are retried after 5 s, 5 min, ' +
    '30 min, 2 h, 5 h, 10 h and 10 h (with jitter); an endpoint whose every attempt has failed for 5 days is disabled.',
  'Bodies are at most 256 KB by default; a larger event is not sent (its delivery fails with a reason).',
].join('\n\n');

const signingHeaders = z.object({
  'webhook-id': z.string().describe('Message id (msg_…), stable across retries'),
  'webhook-timestamp': z.string().describe('Unix seconds when this attempt was sent'),
  'webhook-signature': z.string().describe('Space-separated v1,<base64 signature> values'),
});

let registered = false;

/** Once per process: routers are built once per app and tests build many apps. */
export function registerWebhookEvents(): void {
  if (registered) return;
  registered = true;
  const descriptions = new Map(webhookEventTypes().map((t) => [t.type, t.description]));
  for (const type of allWebhookEventTypes()) {
    const { $schema: _, ...schema } = z.toJSONSchema(webhookEnvelopeSchema(type), {
      io: 'output',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    const component = `WebhookEvent_${type}`;
    registry.registerComponent('schemas', component, schema);
    registry.registerWebhook({
      method: 'post',
      path: type,
      summary: descriptions.get(type),
      description: SIGNING_AND_DELIVERY,
      tags: ['Webhooks'],
      request: {
        headers: signingHeaders,
        body: { content: { 'application/json': { schema: { $ref: `#/components/schemas/${component}` } } } },
      },
      responses: {
        200: { description: 'Any 2xx acknowledges the delivery' },
        410: { description: 'Gone: the endpoint is disabled and receives nothing more until re-enabled' },
      },
    });
  }
}
