// Builds the workers: the `tickets` task queue (the shared workflow bundle, the database activities and whatever
// activities the integrations run next to their workflows), and every queue an integration module declares
// (webhooks: the endpoint delivery loops and their batches; linear: the calls to Linear, rate limited queue-wide).
// Used by worker/main.ts and by the tests (which pass their own tickets queue, so runs never share work; every
// other queue is derived from it).
import { fileURLToPath } from 'node:url';
import type { Database } from '@switchboard/database';
import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import {
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { createDbActivities } from '../activities/db/index.ts';
import type { KeyRing } from '../common/config.ts';
import type { IntegrationServer, WorkerDeps, WorkerSpec } from '../common/integration-contract.ts';
import type { ServiceConfig } from '../common/integration-settings.ts';
import type { Logger } from '../common/logger.ts';
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

/** What every worker of a process shares. */
export type WorkerCommon = {
  connection: NativeConnection;
  namespace: string;
  codecKeys: KeyRing;
  /** Needed by every worker that runs workflows (the tickets queue, and queues whose module says so). */
  workflowBundle?: WorkflowBundleOption;
  /** Per workflow-running worker (config.workerMaxCachedWorkflows); unset: the SDK's default. */
  maxCachedWorkflows?: number;
};

export type TicketsWorkerOptions = WorkerCommon & {
  db: Database;
  /** The loaded integration modules: their tickets-queue activities run here, next to their workflows. */
  servers: readonly IntegrationServer[];
  deps: WorkerDeps;
  taskQueue?: string;
};

export async function createTicketsWorker(options: TicketsWorkerOptions): Promise<Worker> {
  const activities: WorkerSpec['activities'] = { ...createDbActivities({ db: options.db }) };
  for (const server of options.servers) Object.assign(activities, server.ticketsQueueActivities?.(options.deps));
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? taskQueues.tickets,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    ...(options.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: options.maxCachedWorkflows } : {}),
    activities,
    dataConverter: temporalDataConverter(options.codecKeys),
  });
}

/** One worker of an integration's queue, as its module declares it. */
export async function createQueueWorker(common: WorkerCommon, spec: WorkerSpec, ticketsTaskQueue: string) {
  return Worker.create({
    connection: common.connection,
    namespace: common.namespace,
    taskQueue: spec.taskQueue(ticketsTaskQueue),
    ...(spec.workflows
      ? {
          workflowBundle: common.workflowBundle ?? (await bundleWorkflows()),
          ...(common.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: common.maxCachedWorkflows } : {}),
        }
      : {}),
    activities: spec.activities,
    dataConverter: temporalDataConverter(common.codecKeys),
    ...(spec.maxConcurrentActivities !== undefined
      ? { maxConcurrentActivityTaskExecutions: spec.maxConcurrentActivities }
      : {}),
    ...(spec.maxConcurrentWorkflowTasks !== undefined
      ? { maxConcurrentWorkflowTaskExecutions: spec.maxConcurrentWorkflowTasks }
      : {}),
    ...(spec.activitiesPerSecond !== undefined ? { maxTaskQueueActivitiesPerSecond: spec.activitiesPerSecond } : {}),
    ...(spec.heartbeatThrottleMs !== undefined ? { maxHeartbeatThrottleInterval: spec.heartbeatThrottleMs } : {}),
  });
}

/** The tickets worker and every integration's queue workers, for one process. */
export async function createAllWorkers(
  common: WorkerCommon,
  options: {
    db: Database;
    config: ServiceConfig;
    logger: Logger;
    temporal: Client;
    servers: readonly IntegrationServer[];
    ticketsTaskQueue?: string;
    overrides?: WorkerDeps['overrides'];
  },
): Promise<Worker[]> {
  const ticketsTaskQueue = options.ticketsTaskQueue ?? taskQueues.tickets;
  const deps: WorkerDeps = {
    db: options.db,
    config: options.config,
    logger: options.logger,
    temporal: options.temporal,
    ...(options.overrides ? { overrides: options.overrides } : {}),
  };
  const workers = [
    await createTicketsWorker({
      ...common,
      db: options.db,
      servers: options.servers,
      deps,
      taskQueue: ticketsTaskQueue,
    }),
  ];
  for (const server of options.servers) {
    for (const spec of server.workers?.(deps) ?? [])
      workers.push(await createQueueWorker(common, spec, ticketsTaskQueue));
  }
  return workers;
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

/**
 * Creates the schedules the modules declare, where they do not exist yet. Every worker process does this at start;
 * the first one creates them and the others find them there. An existing schedule is left as it is: an operator may
 * have paused it.
 */
export async function ensureSchedules(
  temporal: Client,
  servers: readonly IntegrationServer[],
  ticketsTaskQueue: string,
): Promise<string[]> {
  const created: string[] = [];
  for (const server of servers) {
    for (const spec of server.schedules?.(ticketsTaskQueue) ?? []) {
      try {
        await temporal.schedule.create({
          scheduleId: spec.scheduleId,
          spec: { intervals: [{ every: spec.everyMs }] },
          action: {
            type: 'startWorkflow',
            workflowType: spec.workflowType,
            taskQueue: spec.taskQueue,
            args: spec.args,
            workflowId: spec.scheduleId,
          },
          policies: { overlap: ScheduleOverlapPolicy.SKIP },
        });
        created.push(spec.scheduleId);
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
    }
  }
  return created;
}
