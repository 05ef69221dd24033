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

export function buildOpenApiDocument() {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
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
}
