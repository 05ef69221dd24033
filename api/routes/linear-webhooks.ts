// Linear's webhooks to us. Mounted before the /api body parser and authentication: the signature is computed over
// the raw bytes (re-serialised JSON would not match), and Linear signs rather than signs in.
import express, { Router } from 'express';
import { z } from 'zod';
import { receiveLinearWebhook } from '../../domain/linear/inbound-webhook.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';
import { linearDepsOf } from './linear.ts';

export const LINEAR_WEBHOOK_PATH = '/api/linear/webhooks/{integrationId}';

const LinearWebhookReceipt = registry.register(
  'LinearWebhookReceipt',
  z.object({ received: z.literal(true), links: z.number().int().describe('Links of the issue the change went to') }),
);

export function linearWebhooksRouter(apiDeps: ApiDeps): Router {
  const router = Router();
  const deps = linearDepsOf(apiDeps);
  // Any content type: the bytes are what was signed.
  router.use('/api/linear/webhooks', express.raw({ type: () => true, limit: apiDeps.config.bodyLimit }));

  defineRoute(router, {
    method: 'post',
    path: LINEAR_WEBHOOK_PATH,
    summary:
      'Linear’s webhook for an installation (Issue and Comment changes). Verified with the installation’s signing ' +
      'secret: linear-signature is the hex HMAC-SHA256 of the raw body, whose webhookTimestamp must be within a ' +
      'minute of now. 401 for a missing or wrong signature, 400 for a stale or malformed one, 404 for an unknown or ' +
      'disconnected installation. Each link of the issue gets the change (its sync workflow applies it); ' +
      'deliveries are idempotent by linear-delivery.',
    tags: ['Linear'],
    request: { params: z.object({ integrationId: z.uuid() }).strict() },
    responses: { 200: { description: 'Accepted', schema: LinearWebhookReceipt } },
    handler: async ({ req, params }) => {
      const header = (name: string) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      return {
        status: 200,
        body: await receiveLinearWebhook(deps, params.integrationId, body, {
          signature: header('linear-signature'),
          deliveryId: header('linear-delivery'),
        }),
      };
    },
  });

  return router;
}
