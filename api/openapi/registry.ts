// The OpenAPI registry every route registers itself in (through defineRoute), so the document
// cannot miss a route: specification/openapi.yaml is generated from it by `npm run openapi`.
import { extendZodWithOpenApi, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';

extendZodWithOpenApi(z);

export const registry = new OpenAPIRegistry();

export const errorResponse = registry.register(
  'Error',
  z.object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string(),
      details: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
      requestId: z.string().optional(),
    }),
  }),
);
