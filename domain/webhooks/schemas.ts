// Webhook endpoints and deliveries at the edge: strict inputs, and the views that are the only shapes leaving the
// domain. No view has a field for the secret or header values: the secret appears only in the create and rotate
// results, which are separate types.
import { ticketEventTypes } from '../../common/ticket-events.ts';
import { MAX_CONCURRENCY, MAX_RATE_LIMIT_PER_SECOND } from '../../common/webhooks/endpoint-limits.ts';
import { z } from '../zod.ts';

const isoDateTime = z.iso.datetime({ offset: true });

export const MAX_CUSTOM_HEADERS = 20;
export { DEFAULT_MAX_CONCURRENCY, DEFAULT_RATE_LIMIT_PER_SECOND } from '../../common/webhooks/endpoint-limits.ts';
export const MAX_ROTATION_OVERLAP_HOURS = 168;

const eventTypes = z
  .array(z.enum([...ticketEventTypes] as [string, ...string[]]))
  .min(1, 'subscribe to at least one event type')
  .max(50)
  .transform((types) => [...new Set(types)]);

/** Names are checked against the reserved list by the endpoint policy, which names the offending header. */
const headers = z
  .record(z.string().min(1).max(100), z.string().max(4096, 'a header value is at most 4096 characters'))
  .refine((h) => Object.keys(h).length <= MAX_CUSTOM_HEADERS, `at most ${MAX_CUSTOM_HEADERS} custom headers`)
  .describe('Custom headers sent with every delivery. Values are stored encrypted and never returned, only names.');

const url = z.string().min(1).max(2000).describe('https URL that receives the POSTs');
const description = z.string().trim().max(500);
const rateLimitPerSecond = z
  .number()
  .int()
  .min(1)
  .max(MAX_RATE_LIMIT_PER_SECOND)
  .describe('Deliveries per second to this endpoint');
const maxConcurrency = z
  .number()
  .int()
  .min(1)
  .max(MAX_CONCURRENCY)
  .describe('Requests in flight to this endpoint at once');
const excludeInternalNotes = z
  .boolean()
  .describe(
    'Leave internal notes out: a comment.created of a comment with isPublic false is not delivered here (default false)',
  );

export const createEndpointInput = z
  .object({
    url,
    description: description.optional(),
    eventTypes,
    enabled: z.boolean().optional(),
    rateLimitPerSecond: rateLimitPerSecond.optional(),
    maxConcurrency: maxConcurrency.optional(),
    excludeInternalNotes: excludeInternalNotes.optional(),
    headers: headers.optional(),
  })
  .strict();
export type CreateEndpointInput = z.input<typeof createEndpointInput>;

export const updateEndpointInput = z
  .object({
    url: url.optional(),
    description: description.optional(),
    eventTypes: eventTypes.optional(),
    /** true switches a disabled endpoint back on and clears the reason the system disabled it for. */
    enabled: z.boolean().optional(),
    rateLimitPerSecond: rateLimitPerSecond.optional(),
    maxConcurrency: maxConcurrency.optional(),
    excludeInternalNotes: excludeInternalNotes.optional(),
    /** Replaces every custom header ({} removes them all); omitted keeps them. */
    headers: headers.optional(),
  })
  .strict();
export type UpdateEndpointInput = z.input<typeof updateEndpointInput>;

export const rotateSecretInput = z
  .object({
    overlapHours: z
      .number()
      .min(0)
      .max(MAX_ROTATION_OVERLAP_HOURS)
      .optional()
      .describe('How long deliveries keep a signature with the old secret too (default 24; 0 stops it at once)'),
  })
  .strict();
export type RotateSecretInput = z.input<typeof rotateSecretInput>;

/** What an endpoint stores in integration_configs.config: visible to every member. */
export const endpointConfig = z.object({
  url: z.string(),
  description: z.string(),
  eventTypes: z.array(z.string()),
  rateLimitPerSecond: z.number().int(),
  maxConcurrency: z.number().int(),
  excludeInternalNotes: z.boolean(),
  headerNames: z.array(z.string()),
});
export type EndpointConfig = z.infer<typeof endpointConfig>;

/** What an endpoint stores sealed in integration_configs.credentials. */
export type EndpointCredentials = {
  secret: string;
  previousSecret?: string;
  previousSecretValidUntil?: string;
  headers?: Record<string, string>;
};

export const endpointHealthStatuses = ['healthy', 'failing', 'unknown', 'disabled'] as const;

export const webhookEndpointView = z.object({
  id: z.uuid(),
  url: z
    .string()
    .describe(
      'Where deliveries go. In full for admins; other roles see scheme and host with path and query masked ' +
        '(https://hooks.example.com/***?***), because receivers often carry a token there.',
    ),
  description: z.string(),
  eventTypes: z.array(z.string()),
  enabled: z.boolean(),
  disabledReason: z.string().nullable(),
  rateLimitPerSecond: z.number().int(),
  maxConcurrency: z.number().int(),
  excludeInternalNotes: excludeInternalNotes,
  headerNames: z.array(z.string()),
  secretHint: z.string().nullable(),
  health: z.object({
    status: z.enum(endpointHealthStatuses),
    /** Share of attempts in the last 24 hours that succeeded, 0..1; null when there were none. */
    successRate24h: z.number().min(0).max(1).nullable(),
    lastAttemptAt: isoDateTime.nullable(),
    lastSuccessAt: isoDateTime.nullable(),
    lastError: z.string().nullable(),
  }),
  createdAt: isoDateTime,
  updatedAt: isoDateTime,
});
export type WebhookEndpointView = z.infer<typeof webhookEndpointView>;

export const createdEndpointView = z.object({
  endpoint: webhookEndpointView,
  secret: z.string().describe('The signing secret (whsec_…). Shown only here and on rotation: store it now.'),
});

export const rotatedSecretView = z.object({
  secret: z.string().describe('The new signing secret. Shown only here.'),
  previousSecretValidUntil: isoDateTime
    .nullable()
    .describe('Until when deliveries also carry a signature with the previous secret; null for no overlap'),
});

export const deliveryStatuses = ['pending', 'succeeded', 'failed'] as const;

export const webhookDeliveryView = z.object({
  id: z.uuid(),
  endpointId: z.uuid(),
  messageId: z.string().describe('The webhook-id header: the same on every attempt'),
  eventType: z.string(),
  ticketId: z.uuid().nullable(),
  status: z.enum(deliveryStatuses),
  attemptCount: z.number().int(),
  nextAttemptAt: isoDateTime.nullable(),
  lastAttemptAt: isoDateTime.nullable(),
  createdAt: isoDateTime,
});
export type WebhookDeliveryView = z.infer<typeof webhookDeliveryView>;

/** What an attempt came to; `sending` and `unknown` are both an attempt row still marked sending (see deliveries.ts). */
export const attemptOutcomes = ['succeeded', 'retry', 'failed', 'disabled', 'sending', 'unknown'] as const;

export const webhookAttemptView = z.object({
  id: z.number().int(),
  attemptNumber: z.number().int(),
  startedAt: isoDateTime,
  durationMs: z.number().int().nullable().describe('Null while sending, and when the outcome is unknown'),
  statusCode: z.number().int().nullable(),
  responseExcerpt: z.string().nullable(),
  errorClass: z.string().nullable(),
  outcome: z
    .enum(attemptOutcomes)
    .describe(
      "'succeeded'; 'retry' (failed, tried again per the schedule); 'failed' (failed, no more attempts); 'disabled' " +
        "(410 Gone disabled the endpoint); 'sending' (the request is on its way now); 'unknown' (outcome unknown: " +
        'the worker stopped before it recorded the answer. The request may have reached the receiver; the next ' +
        'attempt carries the same webhook-id)',
    ),
});
export type WebhookAttemptView = z.infer<typeof webhookAttemptView>;

export const webhookDeliveryDetailView = webhookDeliveryView.extend({
  attempts: z.array(webhookAttemptView),
  payload: z.unknown().describe('The exact JSON body sent: { type, timestamp, data }'),
});
export type WebhookDeliveryDetailView = z.infer<typeof webhookDeliveryDetailView>;

export const listDeliveriesQuery = z
  .object({
    status: z.enum(deliveryStatuses).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    cursor: z.string().max(500).optional(),
  })
  .strict();
export type ListDeliveriesQuery = z.input<typeof listDeliveriesQuery>;

export const resendFailedInput = z
  .object({ since: isoDateTime.describe('Resend failed deliveries created at or after this time') })
  .strict();
export type ResendFailedInput = z.input<typeof resendFailedInput>;

export const integrationEventView = z.object({
  id: z.number().int(),
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  createdAt: isoDateTime,
});
export type IntegrationEventView = z.infer<typeof integrationEventView>;
