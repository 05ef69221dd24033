// Integration configs: any member may look, admins change. Responses never carry credentials (the
// Integration schema has no field for them), only a masked hint.
import { Router } from 'express';
import { z } from 'zod';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { createIntegration } from '../../domain/integrations/create-integration.ts';
import { deleteIntegration } from '../../domain/integrations/delete-integration.ts';
import { getIntegration, listIntegrations } from '../../domain/integrations/read-integrations.ts';
import { createIntegrationInput, integrationView, updateIntegrationInput } from '../../domain/integrations/schemas.ts';
import { updateIntegration } from '../../domain/integrations/update-integration.ts';
import { prepareInstallationDelete, prepareInstallationUpdate } from '../../domain/linear/installations.ts';
import { scopeOf } from '../../domain/scope.ts';
import { createWebhookThroughIntegrations } from '../../domain/webhooks/from-integration-input.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';
import { linearDepsOf } from './linear.ts';

const Integration = registry.register('Integration', integrationView);
const IntegrationList = registry.register('IntegrationList', z.object({ data: z.array(Integration) }));
const NewIntegration = registry.register('NewIntegration', createIntegrationInput);
const IntegrationChanges = registry.register('IntegrationChanges', updateIntegrationInput);
const integrationParams = z.object({ id: z.uuid() }).strict();

export function integrationsRouter(deps: ApiDeps): Router {
  const { db, config } = deps;
  const router = Router();
  const keys = config.credentialKeys;

  defineRoute(router, {
    method: 'get',
    path: '/api/integrations',
    summary: "The organisation's integrations",
    tags: ['Integrations'],
    minRole: 'viewer',
    responses: { 200: { description: 'Integrations, oldest first', schema: IntegrationList } },
    handler: async ({ auth, req }) => ({
      status: 200,
      body: { data: await listIntegrations(db, scopeOf(auth, req.id)) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/integrations',
    summary:
      'Add an integration (config checked against its type; credentials stored encrypted). A webhook gets a generated ' +
      'signing secret and takes no credentials: POST /api/webhooks/endpoints shows the secret, rotate-secret renews it.',
    tags: ['Integrations'],
    minRole: 'admin',
    request: { body: NewIntegration },
    responses: { 201: { description: 'The new integration', schema: Integration } },
    handler: async ({ auth, req, body }) => {
      const scope = scopeOf(auth, req.id);
      // A webhook is created the one way that generates its signing secret (shown by POST /api/webhooks/endpoints).
      if (body.integrationType === 'webhook') {
        const id = await createWebhookThroughIntegrations(db, { keys, policy: config.webhooks }, scope, body);
        return { status: 201, body: await getIntegration(db, scope, id) };
      }
      return { status: 201, body: await nestFieldPaths('body', createIntegration(db, keys, scope, body)) };
    },
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/integrations/{id}',
    summary: 'An integration with its health',
    tags: ['Integrations'],
    minRole: 'viewer',
    request: { params: integrationParams },
    responses: { 200: { description: 'The integration', schema: Integration } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await getIntegration(db, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'patch',
    path: '/api/integrations/{id}',
    summary: 'Rename, switch on/off, merge-patch the config (RFC 7396) or replace credentials (null removes them)',
    tags: ['Integrations'],
    minRole: 'admin',
    request: { params: integrationParams, body: IntegrationChanges },
    responses: { 200: { description: 'The integration after the change', schema: Integration } },
    handler: async ({ auth, req, params, body }) => {
      const scope = scopeOf(auth, req.id);
      // A Linear installation switched back on resumes the links that paused while it was off.
      const afterUpdate = await prepareInstallationUpdate(linearDepsOf(deps), scope, params.id, body);
      const updated = await nestFieldPaths('body', updateIntegration(db, keys, scope, params.id, body));
      await afterUpdate();
      return { status: 200, body: updated };
    },
  });

  defineRoute(router, {
    method: 'delete',
    path: '/api/integrations/{id}',
    summary: 'Delete an integration and its sync records',
    tags: ['Integrations'],
    minRole: 'admin',
    request: { params: integrationParams },
    responses: { 204: { description: 'Deleted', schema: null } },
    handler: async ({ auth, req, params }) => {
      const scope = scopeOf(auth, req.id);
      // A Linear installation gives its grant back to Linear first (while the token still works).
      const afterDelete = await prepareInstallationDelete(linearDepsOf(deps), scope, params.id);
      await deleteIntegration(db, scope, params.id);
      await afterDelete();
      return { status: 204 };
    },
  });

  return router;
}
