// Connecting Linear: OAuth (authorize, then Linear sends the admin's browser back to the callback) or a personal API
// key, then the setup wizard's live reads (teams), the connection test, the webhook, and disconnecting. The
// installation's settings (team, mappings, rules) are its integration config: PATCH /api/integrations/{id}.
import { type ErrorRequestHandler, Router } from 'express';
import { z } from 'zod';
import { RequestError } from '../../common/errors.ts';
import { nestFieldPaths } from '../../domain/field-paths.ts';
import { integrationView } from '../../domain/integrations/schemas.ts';
import type { LinearDeps } from '../../domain/linear/installation.ts';
import {
  connectWithApiKey,
  disconnect,
  listTeams,
  registerWebhook,
  setWebhookSecret,
  testConnection,
} from '../../domain/linear/installations.ts';
import {
  callbackRedirect,
  completeLinearAuthorization,
  startLinearAuthorization,
} from '../../domain/linear/oauth-connect.ts';
import {
  linearApiKeyInput,
  linearAuthorizeQuery,
  linearAuthorizeView,
  linearConnectionTest,
  linearTeamList,
  linearTeamView,
  linearWebhookRegistration,
  linearWebhookSecretInput,
} from '../../domain/linear/schemas.ts';
import { scopeOf } from '../../domain/scope.ts';
import { linearSettings } from '../../packages/integrations/linear/settings.ts';
import type { ApiDeps } from '../http/deps.ts';
import { defineRoute } from '../http/route.ts';
import { registry } from '../openapi/registry.ts';

/**
 * Mounted on the callback path right after authentication: the callback is a browser navigation, so an admin
 * whose session ended during Linear's consent screen is sent to sign in and then to the integrations page, which
 * says why and offers to connect again (the state stays unused), instead of a JSON 401.
 */
export const linearCallbackSignIn: ErrorRequestHandler = (error, req, res, next) => {
  if (req.method !== 'GET' || !(error instanceof RequestError) || error.status !== 401) return next(error);
  const back = callbackRedirect({ ok: false, reason: 'signed_out' });
  res.set('cache-control', 'no-store').redirect(302, `/login?${new URLSearchParams({ next: back })}`);
};

/** What the Linear domain functions need, from the API's dependencies. */
export function linearDepsOf({ db, config, logger, temporal }: ApiDeps): LinearDeps {
  return {
    db,
    keys: config.credentialKeys,
    linear: linearSettings.of(config),
    publicUrl: config.publicUrl,
    temporal,
    ticketsTaskQueue: config.temporal.ticketsTaskQueue,
    logger,
  };
}

const LinearAuthorizeQuery = registry.register('LinearAuthorizeQuery', linearAuthorizeQuery);
const LinearAuthorize = registry.register('LinearAuthorize', linearAuthorizeView);
const LinearApiKeyConnection = registry.register('LinearApiKeyConnection', linearApiKeyInput);
registry.register('LinearTeam', linearTeamView);
const LinearTeamList = registry.register('LinearTeamList', linearTeamList);
const LinearConnectionTest = registry.register('LinearConnectionTest', linearConnectionTest);
const LinearWebhookRegistration = registry.register('LinearWebhookRegistration', linearWebhookRegistration);
const LinearWebhookSecret = registry.register('LinearWebhookSecret', linearWebhookSecretInput);
const Integration = integrationView;

const idParams = z.object({ id: z.uuid() }).strict();
const emptyBody = z.object({}).strict();
/** Linear may add parameters to the redirect; only these are read. */
const callbackQuery = z.object({
  code: z.string().max(2000).optional(),
  state: z.string().max(500).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(2000).optional(),
});

export function linearRouter(apiDeps: ApiDeps): Router {
  const router = Router();
  const deps = linearDepsOf(apiDeps);

  defineRoute(router, {
    method: 'get',
    path: '/api/linear/oauth/authorize',
    summary:
      'Start connecting Linear with OAuth: the URL to send the browser to (state and PKCE remembered for 10 minutes, ' +
      'for this admin’s browser session only; an API key gets 403). With integrationId, reconnects that installation (its links resume). actor=app makes ' +
      'changes appear as the application. 409 when the server has no Linear OAuth application configured.',
    tags: ['Linear'],
    minRole: 'admin',
    request: { query: LinearAuthorizeQuery },
    responses: { 200: { description: 'Where to send the browser', schema: LinearAuthorize } },
    handler: async ({ auth, req, query }) => ({
      status: 200,
      body: await nestFieldPaths(
        'query',
        startLinearAuthorization(deps, scopeOf(auth, req.id), query, { sessionId: auth.sessionId }),
      ),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/linear/oauth/callback',
    summary:
      'Where Linear sends the admin’s browser back (the redirect URI to register on the OAuth application). Redirects ' +
      'to /settings/integrations?linear=connected&integration=<id>, or ?linear=error&reason=<code> (invalid_state, ' +
      'expired_state, access_denied, token_exchange_failed, workspace_mismatch, …). Only the browser session that ' +
      'started the flow completes it: another session of the same admin gets 403 session_mismatch (the state stays ' +
      'usable by its own session), an API key 403 session_required.',
    tags: ['Linear'],
    minRole: 'admin',
    request: { query: callbackQuery },
    responses: { 302: { description: 'To the dashboard’s integrations page', schema: null } },
    handler: async ({ auth, req, query }) => {
      const outcome = await completeLinearAuthorization(deps, scopeOf(auth, req.id), query, {
        sessionId: auth.sessionId,
      });
      return { status: 302, headers: { location: callbackRedirect(outcome), 'cache-control': 'no-store' } };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/linear/installations',
    summary:
      'Connect Linear with a personal API key (checked with Linear first: a key Linear refuses is a 422 on apiKey)',
    tags: ['Linear'],
    minRole: 'admin',
    request: { body: LinearApiKeyConnection },
    responses: { 201: { description: 'The new installation', schema: Integration } },
    handler: async ({ auth, req, body }) => ({
      status: 201,
      body: await nestFieldPaths('body', connectWithApiKey(deps, scopeOf(auth, req.id), body)),
    }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/api/linear/installations/{id}/teams',
    summary: 'The workspace’s teams, read live from Linear: workflow states in Linear’s order, labels',
    tags: ['Linear'],
    minRole: 'admin',
    request: { params: idParams },
    responses: { 200: { description: 'Teams by name', schema: LinearTeamList } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: { data: await listTeams(deps, scopeOf(auth, req.id), params.id) },
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/linear/installations/{id}/test',
    summary:
      'Check the connection: who the token is, the workspace, the configured team, the webhook. A Linear failure is ' +
      'ok:false with the reason, not an error status.',
    tags: ['Linear'],
    minRole: 'admin',
    request: { params: idParams, body: emptyBody },
    responses: { 200: { description: 'The result', schema: LinearConnectionTest } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await testConnection(deps, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/linear/installations/{id}/webhook',
    summary:
      'Register Linear’s webhook (Issues and Comments, of the configured team or all public teams) with a generated ' +
      'signing secret. Without the admin scope: registered:false with the URL to add in Linear by hand.',
    tags: ['Linear'],
    minRole: 'admin',
    request: { params: idParams, body: emptyBody },
    responses: { 200: { description: 'Registered, or what to do by hand', schema: LinearWebhookRegistration } },
    handler: async ({ auth, req, params }) => ({
      status: 200,
      body: await registerWebhook(deps, scopeOf(auth, req.id), params.id),
    }),
  });

  defineRoute(router, {
    method: 'put',
    path: '/api/linear/installations/{id}/webhook-secret',
    summary: 'Store the signing secret Linear showed for a webhook added by hand',
    tags: ['Linear'],
    minRole: 'admin',
    request: { params: idParams, body: LinearWebhookSecret },
    responses: { 204: { description: 'Stored', schema: null } },
    handler: async ({ auth, req, params, body }) => {
      await nestFieldPaths('body', setWebhookSecret(deps, scopeOf(auth, req.id), params.id, body));
      return { status: 204 };
    },
  });

  defineRoute(router, {
    method: 'post',
    path: '/api/linear/installations/{id}/disconnect',
    summary:
      'Disconnect: delete the registered webhook and revoke the OAuth token at Linear (best effort), forget the ' +
      'credentials, switch the installation off. Links stay and resume after a reconnect.',
    tags: ['Linear'],
    minRole: 'admin',
    request: { params: idParams, body: emptyBody },
    responses: { 204: { description: 'Disconnected', schema: null } },
    handler: async ({ auth, req, params }) => {
      await disconnect(deps, scopeOf(auth, req.id), params.id);
      return { status: 204 };
    },
  });

  return router;
}
