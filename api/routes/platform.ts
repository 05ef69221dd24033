// Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.
import { sql } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import type { ApiDeps } from '../http/deps.ts';
import type { Metrics } from '../http/metrics.ts';
import { defineRoute } from '../http/route.ts';
import { buildOpenApiDocument } from '../openapi/document.ts';
import { registry } from '../openapi/registry.ts';

const READINESS_TIMEOUT_MS = 2000;

// Anyone can call /readyz, so it says which dependency is down and nothing more: the error text names hosts,
// addresses, users and versions. The reason goes to the log, where the operators look.
const checkStatus = z.enum(['ok', 'unavailable']);
const readiness = registry.register(
  'Readiness',
  z.object({
    status: z.enum(['ready', 'not_ready']),
    checks: z.object({
      database: checkStatus.openapi({ description: 'Whether the database answered (the reason is in the API log)' }),
      temporal: checkStatus.openapi({ description: 'Whether Temporal answered (the reason is in the API log)' }),
    }),
  }),
);
type CheckStatus = z.infer<typeof checkStatus>;

// Plain routes (not JSON): registered by hand, once.
registry.registerPath({
  method: 'get',
  path: '/metrics',
  summary: 'Prometheus metrics',
  tags: ['Platform'],
  responses: {
    200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
  },
});
registry.registerPath({
  method: 'get',
  path: '/openapi.json',
  summary: 'This OpenAPI document',
  tags: ['Platform'],
  responses: {
    200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
  },
});
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function platformRouter({ db, temporal, logger }: ApiDeps, metrics: Metrics): Router {
  const router = Router();

  async function check(run: () => Promise<unknown>, what: string): Promise<CheckStatus> {
    try {
      await withTimeout(run(), READINESS_TIMEOUT_MS, what);
      return 'ok';
    } catch (error) {
      logger.warn({ err: error, dependency: what }, `readiness: ${what} did not answer`);
      return 'unavailable';
    }
  }

  defineRoute(router, {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process is serving requests',
    tags: ['Platform'],
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    handler: async () => ({ status: 200, body: { status: 'ok' } }),
  });

  defineRoute(router, {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database and Temporal answer',
    tags: ['Platform'],
    responses: {
      200: { description: 'Ready', schema: readiness },
      503: { description: 'A dependency is unavailable (named in checks; why, in the API log)', schema: readiness },
    },
    handler: async () => {
      const [database, temporalCheck] = await Promise.all([
        check(() => db.execute(sql`select 1`), 'database'),
        temporal
          ? check(
              // The signal ends the call and its retries; the race in check() alone would leave them running.
              () =>
                temporal.connection.withAbortSignal(AbortSignal.timeout(READINESS_TIMEOUT_MS), () =>
                  temporal.workflowService.getSystemInfo({}),
                ),
              'temporal',
            )
          : check(
              () => Promise.reject(new Error('no Temporal client: it was unreachable when the API started')),
              'temporal',
            ),
      ]);
      const ready = database === 'ok' && temporalCheck === 'ok';
      return {
        status: ready ? 200 : 503,
        body: { status: ready ? 'ready' : 'not_ready', checks: { database, temporal: temporalCheck } },
      };
    },
  });

  router.get('/metrics', async (_req, res, next) => {
    try {
      res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
    } catch (error) {
      next(error);
    }
  });

  router.get('/openapi.json', (_req, res) => {
    res.json(buildOpenApiDocument());
  });

  return router;
}
