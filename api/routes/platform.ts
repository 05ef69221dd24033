// Unauthenticated operational endpoints: liveness, readiness, Prometheus metrics and the OpenAPI document.
import protos from '@temporalio/proto';
import { sql } from 'drizzle-orm';
import { Router } from 'express';
import { z } from 'zod';
import type { IntegrationServer } from '../../common/integration-contract.ts';
import { readRelayStatus } from '../../outbox/relay-status.ts';
import type { ApiDeps } from '../http/deps.ts';
import type { Metrics } from '../http/metrics.ts';
import { defineRoute } from '../http/route.ts';
import { buildOpenApiDocument } from '../openapi/document.ts';
import { registry } from '../openapi/registry.ts';

const READINESS_TIMEOUT_MS = 2000;
const { TaskQueueType } = protos.temporal.api.enums.v1;
/**
 * A worker long-polls (about a minute per poll) and Temporal lists a poller for minutes after its last poll, so a
 * queue counts as served only if some poller came back within this window.
 */
const POLLER_FRESH_MS = 90_000;
/** Anyone may call /readyz, as often as they like: one answer serves every call within this window. */
const READINESS_CACHE_MS = 2000;

// Anyone can call /readyz, so it says which dependency is down and nothing more: the error text names hosts,
// addresses, users and versions. The reason goes to the log, where the operators look.
const checkStatus = z.enum(['ok', 'unavailable']);
const readiness = registry.register(
  'Readiness',
  z.object({
    status: z.enum(['ready', 'degraded', 'not_ready']).openapi({
      description:
        'not_ready (503): the database or Temporal does not answer, so this API cannot serve. degraded (200): the API ' +
        'serves and keeps every write in the outbox, but no worker polls some task queue or the relay is down or ' +
        'behind, so integrations wait; which, in checks (the queues, poller counts and lag are in the API log).',
    }),
    checks: z.object({
      database: checkStatus.openapi({ description: 'Whether the database answered (the reason is in the API log)' }),
      temporal: checkStatus.openapi({ description: 'Whether Temporal answered (the reason is in the API log)' }),
      workers: z.enum(['ok', 'missing', 'unknown']).openapi({
        description:
          'ok: every task queue has a worker polling it; missing: some queue has none; unknown: Temporal did not answer',
      }),
      relay: z.enum(['ok', 'lagging', 'missing', 'unknown']).openapi({
        description: `ok: a relay runs and its oldest undispatched event is younger than the lag limit; lagging: older; missing: no relay runs; unknown: the database did not answer`,
      }),
    }),
  }),
);
type CheckStatus = z.infer<typeof checkStatus>;
type Readiness = z.infer<typeof readiness>;

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

export type ReadinessOptions = {
  /** The loaded integration modules: their workers' task queues are checked for pollers. */
  servers: readonly IntegrationServer[];
  /** Past this age, the oldest undispatched event makes the relay 'lagging'. */
  relayLagLimitSeconds: number;
};

export function platformRouter(deps: ApiDeps, metrics: Metrics, readinessOptions: ReadinessOptions): Router {
  const { db, temporal, logger, config } = deps;
  const router = Router();
  const ticketsTaskQueue = config.temporal.ticketsTaskQueue;
  const queues = [
    { name: ticketsTaskQueue, workflows: true },
    ...readinessOptions.servers.flatMap((server) => server.taskQueues?.(ticketsTaskQueue) ?? []),
  ];
  let cached: { at: number; answer: Promise<{ status: 200 | 503; body: Readiness }> } | undefined;

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
    summary: 'Readiness: the database and Temporal answer; workers poll every task queue; the relay keeps up',
    tags: ['Platform'],
    responses: {
      200: { description: 'Ready', schema: readiness },
      503: { description: 'A dependency is unavailable (named in checks; why, in the API log)', schema: readiness },
    },
    handler: async () => {
      if (!cached || Date.now() - cached.at > READINESS_CACHE_MS)
        cached = { at: Date.now(), answer: computeReadiness() };
      return cached.answer;
    },
  });

  async function computeReadiness(): Promise<{ status: 200 | 503; body: Readiness }> {
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
    const [taskQueues, relay] = await Promise.all([
      temporal && temporalCheck === 'ok' ? pollersOf(temporal).catch(() => null) : null,
      database === 'ok' ? readRelayStatus(db).catch(() => null) : null,
    ]);
    const workers: Readiness['checks']['workers'] =
      taskQueues === null ? 'unknown' : taskQueues.every((q) => q.served) ? 'ok' : 'missing';
    const relayCheck: Readiness['checks']['relay'] =
      relay === null
        ? 'unknown'
        : relay.members === 0
          ? 'missing'
          : relay.lagSeconds !== null && relay.lagSeconds > readinessOptions.relayLagLimitSeconds
            ? 'lagging'
            : 'ok';
    const serving = database === 'ok' && temporalCheck === 'ok';
    const status = !serving ? 'not_ready' : workers === 'ok' && relayCheck === 'ok' ? 'ready' : 'degraded';
    // The queues, their pollers and the relay's lag say what a deployment runs: the log has them, not the answer.
    if (status === 'degraded') logger.warn({ taskQueues, relay }, 'readiness: integrations are waiting');
    return {
      status: serving ? 200 : 503,
      body: { status, checks: { database, temporal: temporalCheck, workers, relay: relayCheck } },
    };
  }

  /** Pollers of each queue seen within POLLER_FRESH_MS, by kind; served when both kinds it needs poll. */
  async function pollersOf(client: NonNullable<ApiDeps['temporal']>) {
    const since = Date.now() - POLLER_FRESH_MS;
    return client.connection.withAbortSignal(AbortSignal.timeout(READINESS_TIMEOUT_MS), () =>
      Promise.all(
        queues.map(async ({ name, workflows }) => {
          const [workflowPollers, activityPollers] = await Promise.all(
            [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY].map((taskQueueType) =>
              client.workflowService.describeTaskQueue({
                namespace: config.temporal.namespace,
                taskQueue: { name },
                taskQueueType,
              }),
            ),
          );
          const fresh = (answer: typeof workflowPollers | undefined) =>
            (answer?.pollers ?? []).filter((p) => Number(p.lastAccessTime?.seconds ?? 0) * 1000 >= since).length;
          const pollers = { workflow: fresh(workflowPollers), activity: fresh(activityPollers) };
          return { name, pollers, served: pollers.activity > 0 && (!workflows || pollers.workflow > 0) };
        }),
      ),
    );
  }

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
