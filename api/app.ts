// The Express app: request plumbing, better-auth, the authenticated /api routers, the codec endpoint,
// the dashboard's static files and the one error handler.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { notFound } from '../common/errors.ts';
import { integrations, loadIntegrationServers } from '../packages/integrations/index.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { authenticate, requireTrustedOrigin } from './auth/authenticate.ts';
import { type Auth, createAuth, trustedOrigins } from './auth/better-auth.ts';
import type { ApiDeps } from './http/deps.ts';
import { createMetrics } from './http/metrics.ts';
import { apiNotFound, errorHandler, requestId, requestLogger, requireJsonBody } from './http/middleware.ts';
import { apiKeysRouter } from './routes/api-keys.ts';
import { codecRouter } from './routes/codec.ts';
import { integrationHealthRouter } from './routes/integration-health.ts';
import { integrationsRouter } from './routes/integrations.ts';
import { invitationAcceptanceRouter, invitationsRouter } from './routes/invitations.ts';
import { meRouter } from './routes/me.ts';
import { membersRouter } from './routes/members.ts';
import { platformRouter } from './routes/platform.ts';
import { ticketsRouter } from './routes/tickets.ts';

export type { ApiDeps } from './http/deps.ts';

const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../packages/dashboard/dist', import.meta.url));

export type App = express.Express & { locals: { auth: Auth } };

/** The app, with the routes of every integration module in `deps.integrations` (default: the product's list). */
export async function createApp(deps: ApiDeps): Promise<App> {
  const { db, config, logger } = deps;
  const loaded = await loadIntegrationServers(deps.integrations ?? integrations);
  const auth = createAuth({ db, config, logger });
  const metrics = createMetrics();
  const app = express() as App;
  app.disable('x-powered-by');
  // Who the client is: the socket's peer, unless TRUST_PROXY says how many proxies in front append to
  // X-Forwarded-For (the rate limits of sign-in count clients by this address).
  app.set('trust proxy', config.auth.trustProxy);
  app.locals.auth = auth;

  app.use(requestId);
  app.use(metrics.middleware);
  app.use(requestLogger(logger));

  app.use(
    platformRouter(deps, metrics, {
      servers: loaded.map((l) => l.server),
      relayLagLimitSeconds: config.relayLagLimitSeconds,
    }),
  );
  app.use(codecRouter(deps, auth));
  app.use(authRoutes({ auth, config, db }));
  // Signed by their senders over the raw body (Linear's webhooks, …): before the JSON parser and authentication.
  for (const { server } of loaded) if (server.routes?.public) app.use(server.routes.public(deps));
  // The invitee has no session yet: the invitation token is the credential.
  app.use(invitationAcceptanceRouter(deps, auth));

  app.use('/api', authenticate({ db, auth }), requireTrustedOrigin(trustedOrigins(config)));
  // Authenticated routes that read their own bodies (multipart and resumable uploads) or stream their answers:
  // after authentication, before the JSON-only rule and the JSON parser.
  for (const { server } of loaded) if (server.routes?.streaming) app.use(server.routes.streaming(deps));
  app.use('/api', requireJsonBody, express.json({ limit: config.bodyLimit }));
  for (const { server } of loaded) for (const h of server.routes?.errorHandlers ?? []) app.use(h.path, h.handler);
  app.use(meRouter(deps));
  app.use(membersRouter(deps));
  app.use(invitationsRouter(deps));
  app.use(apiKeysRouter(deps));
  app.use(ticketsRouter(deps));
  // Before the generic routes: `/api/integrations/health` is not an integration's id.
  app.use(integrationHealthRouter(deps, loaded, metrics.registry));
  app.use(integrationsRouter(deps, loaded));
  for (const { server } of loaded) if (server.routes?.authenticated) app.use(server.routes.authenticated(deps));
  app.use('/api', apiNotFound);

  serveDashboard(app, deps.dashboardDir ?? DEFAULT_DASHBOARD_DIR);
  app.use((req, _res, next) => next(notFound(`route ${req.method} ${req.path}`)));
  app.use(errorHandler(logger));
  return app;
}

/** The built dashboard, with every non-API GET falling back to index.html for client-side routing. */
function serveDashboard(app: express.Express, dir: string): void {
  const index = path.join(dir, 'index.html');
  if (!existsSync(index)) return;
  app.use(express.static(dir, { index: false }));
  app.get('/{*splat}', (req, res, next) => {
    if (req.path.startsWith('/api/') || req.path.startsWith('/codec/') || !req.accepts('html')) return next();
    res.sendFile(index);
  });
}
