// The OpenAPI 3.1 document, generated from the registry that defineRoute fills as routers are built.
import { OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registry } from './registry.ts';

registry.registerComponent('securitySchemes', 'sessionCookie', {
  type: 'apiKey',
  in: 'cookie',
  name: 'switchboard.session_token',
  description: 'Session cookie set by POST /api/auth/sign-in/email.',
});
registry.registerComponent('securitySchemes', 'apiKey', {
  type: 'apiKey',
  in: 'header',
  name: 'x-api-key',
  description: 'An API key created with POST /api/api-keys.',
});
registry.registerComponent('securitySchemes', 'bearer', {
  type: 'http',
  scheme: 'bearer',
  description: 'The same API key, as Authorization: Bearer <key>.',
});

function sortedByKey<T>(record: Record<string, T> | undefined): Record<string, T> | undefined {
  return record && Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Paths and schemas sorted by name, so the document does not depend on the order modules were loaded in. */
export function buildOpenApiDocument() {
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Switchboard API',
      version: '0.1.0',
      description:
        'Tickets, integrations and the platform endpoints of Switchboard. Errors always have the shape ' +
        '{ error: { code, message, details?, requestId } }.',
    },
    servers: [{ url: '/' }],
  });
  document.paths = sortedByKey(document.paths);
  if (document.components) document.components.schemas = sortedByKey(document.components.schemas);
  return document;
}
