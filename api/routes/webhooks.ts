// Outbound webhooks: endpoints (admins write, any member reads), their delivery log, resends and test events, and
// the event-type catalogue. Handlers translate HTTP to the domain functions in domain/webhooks; after queueing a
// delivery they announce the endpoint to the webhook dispatcher, which sends it.
import { Router } from 'express';
import { z } from 'zod';
import { dispatchEndpoints, mergedAnnouncements } from '../../activities/webhooks/wake.ts';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { scopeOf } from '../../domain/scope.ts';
import { createEndpoint, type EndpointSettings } from '../../domain/webhooks/create-endpoint.ts';
import { deleteEndpoint } from '../../domain/webhooks/delete-endpoint.ts';
import { getDelivery, listDeliveries } from '../../domain/webhooks/deliveries.ts';
import { webhookEventTypes } from '../../domain/webhooks/event-catalogue.ts';
import { listEndpointEvents } from '../../domain/webhooks/integration-events.ts';
import { getEndpoint, listEndpoints } from '../../domain/webhooks/read-endpoints.ts';
import { resendDelivery, resendFailedDeliveries, sendTestEvent } from '../../domain/webhooks/resend.ts';
import {
  getRetrySchedule,
  retryScheduleInput,
  retryScheduleView,
  setRetrySchedule,
} from '../../domain/webhooks/retry-schedule.ts';
import { rotateEndpointSecret } from '../../domain/webhooks/rotate-secret.ts';
import {
  createdEndpointView,
  createEndpointInput,
  integrationEventView,
  listDeliveriesQuery,
  resendFailedInput,
  rotatedSecretView,
  rotateSecretInput,
  updateEndpointInput,
  webhookAttemptView,
  webhookDeliveryDetailView,
  webhookDeliveryView,
  webhookEndpointView,
} from '../../domain/webhooks/schemas.ts';
import { updateEndpoint } from '../../domain/webhooks/update-endpoint.ts';
import { endpointViewFor } from '../../domain/webhooks/url-visibility.ts';
import { webhookSettings } from '../../packages/integrations/webhooks/settings.ts';
import { webhooksTaskQueueFor } from '../../workflows/webhook-endpoint-contract.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';
import { registerWebhookEvents } from './webhook-event-docs.ts';

registerWebhookEvents();

const WebhookEndpoint = registry.register('WebhookEndpoint', webhookEndpointView);
const WebhookEndpointList = registry.register('WebhookEndpointList', z.object({ data: z.array(WebhookEndpoint) }));
const CreatedWebhookEndpoint = registry.register('CreatedWebhookEndpoint', createdEndpointView);
const NewWebhookEndpoint = registry.register('NewWebhookEndpoint', createEndpointInput);
const WebhookEndpointChanges = registry.register('WebhookEndpointChanges', updateEndpointInput);
const RotatedWebhookSecret = registry.register('RotatedWebhookSecret', rotatedSecretView);
registry.register('WebhookAttempt', webhookAttemptView);
const WebhookDelivery = registry.register('WebhookDelivery', webhookDeliveryView);
const WebhookDeliveryPage = registry.register(
  'WebhookDeliveryPage',
  z.object({ data: z.array(WebhookDelivery), nextCursor: z.string().nullable() }),
);
const WebhookDeliveryDetail = registry.register('WebhookDeliveryDetail', webhookDeliveryDetailView);
const QueuedTestEvent = registry.register(
  'QueuedWebhookTest',
  z.object({ messageId: z.string(), deliveryId: z.uuid() }),
);
const WebhookRetrySchedule = registry.register('WebhookRetrySchedule', retryScheduleView);
const WebhookRetryScheduleChange = registry.register('WebhookRetryScheduleChange', retryScheduleInput);
const ResentCount = registry.register('ResentWebhookDeliveries', z.object({ count: z.number().int() }));
const EndpointEventList = registry.register(
  'WebhookEndpointEventList',
  z.object({ data: z.array(registry.register('WebhookEndpointEvent', integrationEventView)) }),
);
const WebhookEventTypeList = registry.register(
  'WebhookEventTypeList',
  z.object({
    data: z.array(
      z.object({
        type: z.string(),
        description: z.string(),
        schema: z.record(z.string(), z.unknown()).describe('JSON Schema of the event’s `data`'),
      }),
    ),
  }),
);

const idParams = z.object({ id: z.uuid() }).strict();
const emptyBody = z.object({}).strict();

/** Said on every route that queues a delivery, because the answer comes before the delivery does. */
const QUEUED =
  'The delivery is queued (pending, due now) and announced to the webhook dispatcher; the answer does not wait for ' +
  'the receiver. If Temporal is unreachable the delivery stays pending until the endpoint is next announced.';

export function webhooksRouter({
  db,
  config,
  logger,
  temporal,
}: Pick<ApiDeps, 'db' | 'config' | 'logger' | 'temporal'>) {
  const router = Router();
  const settings: EndpointSettings = { keys: config.credentialKeys, policy: webhookSettings.of(config) };

  /**
   * Announces the endpoint's due deliveries to the webhook dispatcher. They are already committed: a failed
   * announcement only delays them, so it is logged, not returned.
   */
  // The dispatcher of this deployment's webhooks queue, named after its tickets queue as the workers name it.
  const taskQueue = webhooksTaskQueueFor(config.temporal.ticketsTaskQueue);
  const announce = temporal
    ? mergedAnnouncements((targets) => dispatchEndpoints(temporal, targets, { taskQueue }))
    : undefined;
  async function wake(endpointId: string, organizationId: string): Promise<void> {
    if (!announce) return;
    try {
      // Requests at the same time share a signal (a burst of resends costs a few, not one each).
      await announce({ endpointId, organizationId });
    } catch (error) {
      logger.warn({ err: error, endpointId }, 'could not reach the webhook dispatcher; deliveries stay pending');
    }
  }

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/event-types',
    summary: 'The event types an endpoint can subscribe to, each with the JSON Schema of its data',
    tags: ['Webhooks'],
    minRole: 'viewer',
    responses: { 200: { description: 'Every event type, plus webhook.test', schema: WebhookEventTypeList } },
    handler: async () => ({ status: 200, body: { data: webhookEventTypes() } }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/retry-schedule',
    summary: "The organisation's webhook retry schedule (the waits after each failed attempt)",
    tags: ['Webhooks'],
    minRole: 'admin',
    responses: { 200: { description: 'The schedule in use, and the default', schema: WebhookRetrySchedule } },
    handler: async ({ auth, req }) => ({ status: 200, body: await getRetrySchedule(db, scopeOf(auth, req.id)) }),
  });

  defineRoute(router, {
    method: 'put',
    path: '/api/webhooks/retry-schedule',
    summary:
      'Set the webhook retry schedule: 1–20 waits in seconds, each 1 s–24 h, none shorter than the one before (null: the default)',
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { body: WebhookRetryScheduleChange },
    responses: { 200: { description: 'The schedule now in use', schema: WebhookRetrySchedule } },
    handler: async ({ auth, req, body }) => ({
      status: 200,
      body: await nestFieldPaths('body', setRetrySchedule(db, scopeOf(auth, req.id), body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/endpoints',
    summary:
      "The organisation's webhook endpoints with their health. Only admins see each URL in full; other roles see " +
      'its scheme and host, with path and query masked (https://hooks.example.com/***?***): they often hold a token.',
    tags: ['Webhooks'],
    minRole: 'viewer',
    responses: { 200: { description: 'Endpoints, oldest first', schema: WebhookEndpointList } },
    handler: async ({ auth, req }) => ({
      status: 200,
      body: { data: (await listEndpoints(db, scopeOf(auth, req.id))).map((e) => endpointViewFor(auth.role, e)) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/webhooks/endpoints',
    summary:
      'Add an endpoint. Its signing secret is generated and returned in this response only. The URL must be https ' +
      '(unless the deployment allows http) and may not name a private, loopback or link-local address.',
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { body: NewWebhookEndpoint },
    responses: { 201: { description: 'The endpoint and its secret (whsec_…)', schema: CreatedWebhookEndpoint } },
    handler: async ({ auth, req, body }) => ({
      status: 201,
      body: await nestFieldPaths('body', createEndpoint(db, settings, scopeOf(auth, req.id), body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/endpoints/{id}',
    summary: 'An endpoint with its health (the URL masked below admin, as in the list)',
    tags: ['Webhooks'],
    minRole: 'viewer',
    request: { params: idParams },
    responses: { 200: { description: 'The endpoint', schema: WebhookEndpoint } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: endpointViewFor(auth.role, await getEndpoint(db, scopeOf(auth, req.id), params.id)),
    }),
  });

  defineRoute(router, {
    method: 'patch',
    path: '/api/webhooks/endpoints/{id}',
    summary:
      'Change an endpoint: url, description, event types, rate limit, concurrency, headers (replaced as a set), ' +
      'enabled (true also clears the reason it was disabled for)',
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { params: idParams, body: WebhookEndpointChanges },
    responses: { 200: { description: 'The endpoint after the change', schema: WebhookEndpoint } },
    handler: async ({ auth, req, params, body }) => {
      const endpoint = await nestFieldPaths(
        'body',
        updateEndpoint(db, settings, scopeOf(auth, req.id), params.id, body),
      );
      // Switched back on: whatever queued up meanwhile is due now.
      if (body.enabled) await wake(endpoint.id, auth.organizationId);
      return { status: 200, body: endpoint };
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/webhooks/endpoints/{id}',
    summary: 'Delete an endpoint with its delivery log',
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { params: idParams },
    responses: { 204: { description: 'Deleted', schema: null } },
    handler: async ({ auth, req, params }) => {
      await deleteEndpoint(db, scopeOf(auth, req.id), params.id);
      return { status: 204 };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/webhooks/endpoints/{id}/rotate-secret',
    summary:
      'Replace the signing secret. For overlapHours (default 24, up to 168) deliveries carry signatures with both the ' +
      'new and the old secret, space-separated in webhook-signature. The new secret is returned in this response only.',
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { params: idParams, body: rotateSecretInput },
    responses: { 200: { description: 'The new secret', schema: RotatedWebhookSecret } },
    handler: async ({ auth, req, params, body }) => ({
      status: 200,
      body: await nestFieldPaths('body', rotateEndpointSecret(db, settings, scopeOf(auth, req.id), params.id, body)),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/webhooks/endpoints/{id}/test',
    summary: `Send a webhook.test event to this endpoint only. ${QUEUED}`,
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { params: idParams, body: emptyBody },
    responses: { 202: { description: 'Queued', schema: QueuedTestEvent } },
    handler: async ({ auth, req, params }) => {
      const queued = await sendTestEvent(db, scopeOf(auth, req.id), params.id);
      await wake(params.id, auth.organizationId);
      return { status: 202, body: queued };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/endpoints/{id}/deliveries',
    summary: "An endpoint's deliveries, newest first",
    tags: ['Webhooks'],
    minRole: 'viewer',
    request: { params: idParams, query: listDeliveriesQuery },
    responses: {
      200: { description: 'One page of deliveries; pass nextCursor back for the next', schema: WebhookDeliveryPage },
    },
    handler: async ({ auth, req, params, query }) => ({
      status: 200,
      body: await nestFieldPaths('query', listDeliveries(db, scopeOf(auth, req.id), params.id, query)),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/webhooks/endpoints/{id}/resend-failed',
    summary: `Send again every failed delivery of this endpoint created since a time. ${QUEUED}`,
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { params: idParams, body: resendFailedInput },
    responses: { 202: { description: 'How many deliveries were queued again', schema: ResentCount } },
    handler: async ({ auth, req, params, body }) => {
      const result = await nestFieldPaths('body', resendFailedDeliveries(db, scopeOf(auth, req.id), params.id, body));
      if (result.count > 0) await wake(params.id, auth.organizationId);
      return { status: 202, body: result };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/endpoints/{id}/events',
    summary: 'What happened to the endpoint itself (created, disabled, enabled, secret rotated), newest first',
    tags: ['Webhooks'],
    minRole: 'viewer',
    request: { params: idParams },
    responses: { 200: { description: 'The latest 100 events', schema: EndpointEventList } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: { data: await listEndpointEvents(db, scopeOf(auth, req.id), params.id) },
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/webhooks/deliveries/{id}',
    summary: 'A delivery with its attempts (status, duration, response excerpt, error) and the exact body sent',
    tags: ['Webhooks'],
    minRole: 'viewer',
    request: { params: idParams },
    responses: { 200: { description: 'The delivery', schema: WebhookDeliveryDetail } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await getDelivery(db, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/webhooks/deliveries/{id}/resend',
    summary: `Send a delivery again, whatever its status, with the same webhook-id. ${QUEUED}`,
    tags: ['Webhooks'],
    minRole: 'admin',
    request: { params: idParams, body: emptyBody },
    responses: { 202: { description: 'The delivery, pending again', schema: WebhookDelivery } },
    handler: async ({ auth, req, params }) => {
      const delivery = await resendDelivery(db, scopeOf(auth, req.id), params.id);
      await wake(delivery.endpointId, auth.organizationId);
      return { status: 202, body: delivery };
    },
  });

  return router;
}
