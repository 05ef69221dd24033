// defineRoute: the one way to add an API route. It registers the route in Express and in the OpenAPI
// registry from the same zod schemas, parses params/query/body (unknown fields rejected by .strict()
// schemas), checks the caller's role, and in tests checks every response against its declared schema.
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { Request, Response, Router } from 'express';
import type { z } from 'zod';
import { forbidden, unauthenticated, zodDetails } from '../../common/errors.ts';
import { errorResponse, registry } from '../openapi/registry.ts';
import type { AuthContext, Role } from './context.ts';
import { parsePart } from './validate.ts';

const roleRank: Record<Role, number> = { viewer: 0, agent: 1, admin: 2 };

type Schemas = { params?: z.ZodType; query?: z.ZodType; body?: z.ZodType };
type Parsed<S extends Schemas> = {
  params: S['params'] extends z.ZodType ? z.infer<S['params']> : Record<string, never>;
  query: S['query'] extends z.ZodType ? z.infer<S['query']> : Record<string, never>;
  body: S['body'] extends z.ZodType ? z.infer<S['body']> : undefined;
};

export type RouteResult =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** The handler wrote the response itself (a streamed download). */
  | { streamed: true };

export type RouteDefinition<S extends Schemas> = {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** OpenAPI-style full path, e.g. /api/tickets/{id}. */
  path: string;
  summary: string;
  tags: string[];
  /** Least role allowed; omit for public routes (no authentication). */
  minRole?: Role;
  request?: S;
  /**
   * The body as the document shows it, when the app validates a wider one: a test app with extra integration
   * modules accepts their types, but the document always describes the product's.
   */
  documentedBody?: z.ZodType;
  /** A multipart/form-data body, read by the handler itself as a stream (uploads); documented, never parsed here. */
  multipartBody?: z.ZodType;
  /** Responses that are not JSON (a file download): status → content types it may answer with. */
  rawResponses?: Record<number, { description: string; contentTypes: string[] }>;
  /** Status code → response body schema (null for an empty body). Error statuses are added automatically. */
  responses: Record<number, { description: string; schema: z.ZodType | null }>;
  handler: (ctx: Parsed<S> & { auth: AuthContext; req: Request; res: Response }) => Promise<RouteResult>;
};

/** Set by tests (SWITCHBOARD_VALIDATE_RESPONSES=1): a response that breaks its schema becomes a 500. */
const validateResponses = process.env.SWITCHBOARD_VALIDATE_RESPONSES === '1';

export function toExpressPath(openapiPath: string): string {
  return openapiPath.replace(/\{(\w+)\}/g, ':$1');
}

/** Routers are built once per app, and tests build many apps: each route is registered in the document once. */
const registered = new Set<string>();

export function defineRoute<S extends Schemas>(router: Router, def: RouteDefinition<S>): void {
  const key = `${def.method} ${def.path}`;
  if (!registered.has(key)) {
    registered.add(key);
    registerInOpenApi(def);
  }
  addExpressRoute(router, def);
}

function registerInOpenApi<S extends Schemas>(def: RouteDefinition<S>): void {
  const responses: RouteConfig['responses'] = {};
  for (const [status, r] of Object.entries(def.responses)) {
    responses[status] = r.schema
      ? { description: r.description, content: { 'application/json': { schema: r.schema } } }
      : { description: r.description };
  }
  const errorStatuses = ['400', '422', ...(def.minRole ? ['401', '403'] : []), '404', '409', '413'];
  for (const status of errorStatuses) {
    responses[status] ??= {
      description: 'Error',
      content: { 'application/json': { schema: errorResponse } },
    };
  }
  const request: RouteConfig['request'] = {};
  if (def.request?.params) request.params = def.request.params as never;
  if (def.request?.query) request.query = def.request.query as never;
  const body = def.documentedBody ?? def.request?.body;
  if (body) request.body = { required: true, content: { 'application/json': { schema: body } } };
  if (def.multipartBody)
    request.body = { required: true, content: { 'multipart/form-data': { schema: def.multipartBody } } };
  for (const [status, raw] of Object.entries(def.rawResponses ?? {}))
    responses[status] = {
      description: raw.description,
      content: Object.fromEntries(
        raw.contentTypes.map((type) => [type, { schema: { type: 'string', format: 'binary' } }]),
      ),
    };
  registry.registerPath({
    method: def.method,
    path: def.path,
    summary: def.summary,
    tags: def.tags,
    security: def.minRole ? [{ sessionCookie: [] }, { apiKey: [] }, { bearer: [] }] : [],
    request,
    responses,
  });
}

function addExpressRoute<S extends Schemas>(router: Router, def: RouteDefinition<S>): void {
  router[def.method](toExpressPath(def.path), async (req, res, next) => {
    try {
      const auth = req.auth;
      if (def.minRole) {
        if (!auth) throw unauthenticated();
        if (roleRank[auth.role] < roleRank[def.minRole])
          throw forbidden(`this needs the ${def.minRole} role or higher`);
      }
      const parsed = {
        params: def.request?.params ? parsePart(def.request.params, req.params, 'params') : {},
        query: def.request?.query ? parsePart(def.request.query, req.query, 'query') : {},
        body: def.request?.body ? parsePart(def.request.body, req.body, 'body') : undefined,
      } as Parsed<S>;
      const result = await def.handler({ ...parsed, auth: auth as AuthContext, req, res });
      if ('streamed' in result) return;
      const declared = def.responses[result.status];
      if (validateResponses) {
        if (!declared) throw new Error(`${def.method} ${def.path} answered ${result.status}, not declared in OpenAPI`);
        if (declared.schema) {
          const check = declared.schema.safeParse(result.body);
          if (!check.success)
            throw new Error(
              `${def.method} ${def.path} ${result.status} breaks its schema: ${JSON.stringify(zodDetails(check.error))}`,
            );
        }
      }
      if (result.headers) res.set(result.headers);
      if (result.body === undefined) res.status(result.status).end();
      else res.status(result.status).json(result.body);
    } catch (error) {
      next(error);
    }
  });
}
