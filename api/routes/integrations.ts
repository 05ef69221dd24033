// Integration configs: any member may look, admins change. Responses never carry credentials (the
// Integration schema has no field for them), only a masked hint.
import { Router } from 'express';
import { z } from 'zod';
import type { IntegrationDefinition, IntegrationServer } from '../../common/integration-contract.ts';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { createIntegration } from '../../domain/integrations/create-integration.ts';
import { deleteIntegration } from '../../domain/integrations/delete-integration.ts';
import { getIntegration, listIntegrations } from '../../domain/integrations/read-integrations.ts';
import {
  type CreateIntegrationInput,
  createIntegrationInput,
  createIntegrationInputFor,
  integrationView,
  updateIntegrationInput,
} from '../../domain/integrations/schemas.ts';
import { updateIntegration } from '../../domain/integrations/update-integration.ts';
import { type Scope, scopeOf } from '../../domain/scope.ts';
import { integrationViewFor } from '../../domain/webhooks/url-visibility.ts';
import { integrations } from '../../packages/integrations/index.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

const Integration = registry.register('Integration', integrationView);
const IntegrationList = registry.register('IntegrationList', z.object({ data: z.array(Integration) }));
const NewIntegration = registry.register('NewIntegration', createIntegrationInput);
const IntegrationChanges = registry.register('IntegrationChanges', updateIntegrationInput);
const integrationParams = z.object({ id: z.uuid() }).strict();
const IntegrationCatalogue = registry.register(
  'IntegrationCatalogue',
  z.object({
    data: z.array(
      z.object({
        type: z.string().describe('The integrationType to create it with'),
        label: z.string(),
        description: z.string(),
        setupComponent: z.string().describe("The dashboard's setup component for this type"),
        oauthReturnParam: z
          .string()
          .nullable()
          .describe('The query parameter an OAuth return to the dashboard carries'),
      }),
    ),
  }),
);

export function integrationsRouter(
  deps: ApiDeps,
  modules: ReadonlyArray<{ definition: IntegrationDefinition; server: IntegrationServer }>,
): Router {
  const { db, config } = deps;
  const router = Router();
  const keys = config.credentialKeys;
  const definitions = modules.map((m) => m.definition);
  // The product's list is the documented one; a test's own list (a plug-in probe) is validated but not documented.
  const isProductList =
    definitions.length === integrations.length && definitions.every((d, i) => d === integrations[i]);
  const newIntegration = isProductList ? NewIntegration : createIntegrationInputFor(definitions);
  const serverOf = (type: string) => modules.find((m) => m.definition.type === type)?.server;
  /** The type of an integration of this organisation (404 otherwise): its module decides what a write involves. */
  const typeOf = async (scope: Scope, id: string) => (await getIntegration(db, scope, id)).integrationType;

  defineRoute(router, {
    method: 'get',
    path: '/api/integrations',
    summary: "The organisation's integrations (a webhook's URL masked below admin: path and query may hold a token)",
    tags: ['Integrations'],
    minRole: 'viewer',
    responses: { 200: { description: 'Integrations, oldest first', schema: IntegrationList } },
    handler: async ({ auth, req }) => ({
      status: 200,
      body: { data: (await listIntegrations(db, scopeOf(auth, req.id))).map((i) => integrationViewFor(auth.role, i)) },
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/integrations/catalogue',
    summary: 'The integration types this deployment serves (one per integration module), in the order to offer them',
    tags: ['Integrations'],
    minRole: 'viewer',
    responses: { 200: { description: 'The catalogue', schema: IntegrationCatalogue } },
    handler: async () => ({
      status: 200,
      body: {
        data: modules.map(({ definition }) => ({
          type: definition.type,
          label: definition.label,
          description: definition.description,
          setupComponent: definition.dashboard.setupComponent,
          oauthReturnParam: definition.dashboard.oauthReturnParam ?? null,
        })),
      },
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
    request: { body: newIntegration },
    documentedBody: NewIntegration,
    responses: { 201: { description: 'The new integration', schema: Integration } },
    handler: async ({ auth, req, body }) => {
      const scope = scopeOf(auth, req.id);
      // Some types are created their own way (a webhook generates its signing secret).
      const create = serverOf(body.integrationType)?.lifecycle?.create;
      if (create) {
        const id = await create(deps, scope, body);
        return { status: 201, body: await getIntegration(db, scope, id) };
      }
      return {
        status: 201,
        body: await nestFieldPaths(
          'body',
          createIntegration(db, keys, scope, body as CreateIntegrationInput, newIntegration),
        ),
      };
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
      body: integrationViewFor(auth.role, await getIntegration(db, scopeOf(auth, req.id), params.id)),
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
      // What the type's module does around it (a Linear installation switched back on resumes its links).
      const hook = serverOf(await typeOf(scope, params.id))?.lifecycle?.beforeUpdate;
      const afterUpdate = hook ? await hook(deps, scope, params.id, body) : async () => {};
      const updated = await nestFieldPaths('body', updateIntegration(db, keys, scope, params.id, body, definitions));
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
      // What the type's module does around it (a Linear installation gives its grant back to Linear first).
      const hook = serverOf(await typeOf(scope, params.id))?.lifecycle?.beforeDelete;
      const afterDelete = hook ? await hook(deps, scope, params.id) : async () => {};
      await deleteIntegration(db, scope, params.id);
      await afterDelete();
      return { status: 204 };
    },
  });

  return router;
}
