// Builds the workers: the `tickets` task queue (ticket, SLA and Linear workflows, database activities), the
// `webhooks` one (endpoint delivery workflows and the webhook activities) and the `linear` one (the Linear
// activities, rate limited queue-wide). Used by worker/main.ts and by the tests (which pass
// their own task queue, so runs never share work).
import { fileURLToPath } from 'node:url';
import type { Database } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createDbActivities } from '../activities/db/index.ts';
import type { SafePoster } from '../activities/http/safe-post.ts';
import { createLinearActivities } from '../activities/linear/index.ts';
import { createWebhookActivities } from '../activities/webhooks/index.ts';
import type { Config, KeyRing } from '../common/config.ts';
import { failureConverterPath, temporalDataConverter } from '../common/temporal-client.ts';
import { taskQueues } from '../temporal-config/index.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Bundles the workflow code once (webpack + swc); a process that creates several workers reuses the bundle. A
 * prebuilt bundle ignores the worker's dataConverter.failureConverterPath, so the bundle carries it itself: failures
 * raised inside workflows are encoded like the ones raised by activities.
 */
export function bundleWorkflows(path = workflowsPath): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: path, failureConverterPath, logger: quietBundlerLogger });
}

export type TicketsWorkerOptions = {
  connection: NativeConnection;
  namespace: string;
  codecKeys: KeyRing;
  db: Database;
  /**
   * What the Linear workflows' local activities need (database work and signals run in this worker, next to the
   * workflows; the calls to Linear go to the linear queue).
   */
  linear: { config: Pick<Config, 'credentialKeys' | 'linear' | 'publicUrl'>; temporalClient: Client };
  taskQueue?: string;
  workflowBundle?: WorkflowBundle;
};

export async function createTicketsWorker(options: TicketsWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? taskQueues.tickets,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: {
      ...createDbActivities({ db: options.db }),
      ...createLinearActivities({ db: options.db, ...options.linear }),
    },
    dataConverter: temporalDataConverter(options.codecKeys),
  });
}

export type WebhooksWorkerOptions = {
  connection: NativeConnection;
  namespace: string;
  codecKeys: KeyRing;
  db: Database;
  config: Pick<Config, 'credentialKeys' | 'webhooks'>;
  /** The client the enqueue activity wakes endpoint workflows with. */
  temporalClient: Client;
  taskQueue?: string;
  workflowBundle?: WorkflowBundle;
  poster?: SafePoster;
  /** Tests only: divides retry waits (SWITCHBOARD_WEBHOOK_RETRY_COMPRESSION). */
  retryCompression?: number;
  leaseMarginMs?: number;
  /**
   * Batch activities running at once on this worker: each is one endpoint's batch, mostly waiting on the network,
   * so this is roughly how many endpoints are served in parallel. Default 200.
   */
  maxConcurrentActivities?: number;
};

export async function createWebhooksWorker(options: WebhooksWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? taskQueues.webhooks,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: createWebhookActivities({
      db: options.db,
      config: options.config,
      temporalClient: options.temporalClient,
      ...(options.poster ? { poster: options.poster } : {}),
      ...(options.retryCompression ? { retryCompression: options.retryCompression } : {}),
      ...(options.leaseMarginMs !== undefined ? { leaseMarginMs: options.leaseMarginMs } : {}),
    }),
    dataConverter: temporalDataConverter(options.codecKeys),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 200,
    maxConcurrentWorkflowTaskExecutions: 100,
  });
}

export type LinearWorkerOptions = {
  connection: NativeConnection;
  namespace: string;
  codecKeys: KeyRing;
  db: Database;
  config: Pick<Config, 'credentialKeys' | 'linear' | 'publicUrl'>;
  /** The client the routing activity signals (and starts) link workflows with. */
  temporalClient: Client;
  /** `linear`, or a test's sibling of its ticket queue (linearTaskQueueFor). */
  taskQueue?: string;
  /** Activities running at once on this worker (mostly waiting on Linear). Default 50. */
  maxConcurrentActivities?: number;
};

/**
 * Activities only: the Linear workflows run on the ticket queue and send their Linear work here, where the queue-wide
 * rate limit spreads every installation's calls, however many workers poll.
 */
export async function createLinearWorker(options: LinearWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? taskQueues.linear,
    activities: createLinearActivities({
      db: options.db,
      config: options.config,
      temporalClient: options.temporalClient,
    }),
    dataConverter: temporalDataConverter(options.codecKeys),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities ?? 50,
    ...(options.config.linear.activitiesPerSecond > 0
      ? { maxTaskQueueActivitiesPerSecond: options.config.linear.activitiesPerSecond }
      : {}),
  });
}

// The bundler reports every module at info level; only its warnings and errors are worth a log line.
const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};
