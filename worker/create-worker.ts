// Builds the workers of the `tickets` task queue: the ticket and SLA workflows and the database activities.
// Used by worker/main.ts and by the tests (which pass their own task queue, so runs never share work).
import { fileURLToPath } from 'node:url';
import type { Database } from '@switchboard/database';
import { bundleWorkflowCode, type NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createDbActivities } from '../activities/db/index.ts';
import type { KeyRing } from '../common/config.ts';
import { temporalDataConverter } from '../common/temporal-client.ts';
import { taskQueues } from '../temporal-config/index.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Bundles the workflow code once (webpack + swc); a process that creates several workers reuses the bundle. */
export function bundleWorkflows(path = workflowsPath): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: path, logger: quietBundlerLogger });
}

export type TicketsWorkerOptions = {
  connection: NativeConnection;
  namespace: string;
  codecKeys: KeyRing;
  db: Database;
  taskQueue?: string;
  workflowBundle?: WorkflowBundle;
};

export async function createTicketsWorker(options: TicketsWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? taskQueues.tickets,
    workflowBundle: options.workflowBundle ?? (await bundleWorkflows()),
    activities: createDbActivities({ db: options.db }),
    dataConverter: temporalDataConverter(options.codecKeys),
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
