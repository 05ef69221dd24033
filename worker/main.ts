// The worker process: runs the `tickets` task queue (the workflows, the database activities), every queue the
// integration modules declare (packages/integrations: webhooks' delivery loops, Linear's rate-limited calls, …) and
// the outbox relay that hands ticket events to them.
// Several can run at once: Temporal shares the task queues among them and the relays share the tickets' partitions
// (outbox/relay.ts). GET /metrics on WORKER_METRICS_PORT shows the relay's counters.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectDatabase } from '@switchboard/database';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { createLogger, temporalLogger } from '../common/logger.ts';
import { connectTemporalClient } from '../common/temporal-client.ts';
import { createOutboxRelay, freshRelayMetrics, type OutboxRelay } from '../outbox/relay.ts';
import { relaySubscribers } from '../outbox/relay-subscribers.ts';
import { loadIntegrationServers, loadServiceConfig } from '../packages/integrations/index.ts';
import { taskQueues } from '../temporal-config/index.ts';
import { createAllWorkers, ensureSchedules } from './create-worker.ts';
import { relayRegistry, startMetricsServer } from './metrics-server.ts';

const config = loadServiceConfig();
const logger = createLogger(config.logLevel, 'worker');
// Before any connection: the SDK's own lines (activity failures with their error) go through our redaction.
Runtime.install({ logger: temporalLogger(logger) });
// The metrics port first: a port another process holds is a configuration error to report at once, in one line,
// not after waiting for Temporal (and not as an unhandled 'error' event).
let relay: OutboxRelay | undefined;
const metricsServer =
  config.workerMetricsPort > 0
    ? await startMetricsServer(
        relayRegistry(() => relay?.metrics() ?? freshRelayMetrics()),
        config.workerMetricsPort,
      ).catch((error: Error) => {
        logger.fatal(error.message);
        process.exit(1);
      })
    : undefined;
// Webhook batches of many endpoints write at once; the relay and ticket activities share the rest. A connection is
// replaced after a minute, so the plans its named statements keep (the relay's, the webhook loop's) are made again
// for tables that have grown since: a new connection costs its backend a few milliseconds, a plan kept for a table
// that grew from empty can cost a sequential scan per batch (specification/performance.md).
const CONNECTION_LIFETIME_SECONDS = 60;
const database = connectDatabase(config.databaseUrl, config.workerDatabasePool, CONNECTION_LIFETIME_SECONDS);

// Temporal may still be starting (docker compose, npm start): wait for it rather than crash-loop.
const connection = await untilConnected(() => NativeConnection.connect({ address: config.temporal.address }));
const temporal = await untilConnected(() =>
  connectTemporalClient({
    address: config.temporal.address,
    namespace: config.temporal.namespace,
    codecKeys: config.codecKeys,
  }),
);

const servers = (await loadIntegrationServers()).map((i) => i.server);
const workers = await createAllWorkers(
  {
    connection,
    namespace: config.temporal.namespace,
    codecKeys: config.codecKeys,
    workflowBundle: { codePath: bundleInChild() },
    maxCachedWorkflows: config.workerMaxCachedWorkflows,
  },
  { db: database.db, config, logger, temporal: temporal.client, servers },
);
await ensureSchedules(temporal.client, servers, taskQueues.tickets);
const activeRelay = createOutboxRelay({
  pool: database.pool,
  temporal: temporal.client,
  subscribers: relaySubscribers(servers, config),
  logger,
});
relay = activeRelay;

// The SDK's runtime shuts the worker down on SIGINT/SIGTERM (in-flight tasks finish first); the relay stops with it.
activeRelay.start();
logger.info(
  {
    taskQueues: workers.map((w) => w.options.taskQueue),
    address: config.temporal.address,
  },
  'worker started',
);
let exitCode = 0;
try {
  // One stopping (a fatal error) stops the others, so the process never runs part of a worker.
  const stopOthers = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  await Promise.all(workers.map((w) => w.run().finally(stopOthers)));
} catch (err) {
  logger.error({ err }, 'worker stopped with an error');
  exitCode = 1;
} finally {
  await activeRelay.stop();
  metricsServer?.close();
  logger.info({ relay: activeRelay.metrics() }, 'worker stopped');
  await temporal.close();
  await connection.close();
  await database.close();
}
process.exit(exitCode);

async function untilConnected<T>(connect: () => Promise<T>): Promise<T> {
  for (let delayMs = 500; ; delayMs = Math.min(delayMs * 2, 10_000)) {
    try {
      return await connect();
    } catch (err) {
      logger.warn({ err: String(err), retryInMs: delayMs }, `waiting for Temporal at ${config.temporal.address}`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/** The workflow bundle, built by a child process (worker/bundle-workflows.ts) so its memory is not ours to keep. */
function bundleInChild(): string {
  const codePath = join(mkdtempSync(join(tmpdir(), 'switchboard-workflows-')), 'workflows.js');
  execFileSync(process.execPath, [fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url)), codePath], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return codePath;
}
