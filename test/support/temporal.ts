// One real Temporal dev server per mocha run (SQLite under .data/test-temporal/, the project's search attributes),
// started by the first test that asks for it and stopped after the run. The outbox outage test stops and
// restarts it on the same database file, so it is a plain child process rather than the SDK's test environment.
// TEST_TEMPORAL_SERVER=postgres swaps in the server as production runs it (see postgresTemporalServer below).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '@switchboard/database';
import { Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type Worker, type WorkflowBundle } from '@temporalio/worker';
import type { KeyRing } from '../../common/config.ts';
import type { IntegrationDefinition, IntegrationServer, WorkerDeps } from '../../common/integration-contract.ts';
import { createLogger } from '../../common/logger.ts';
import { connectTemporalClient, type TemporalClientHandle } from '../../common/temporal-client.ts';
import { createOutboxRelay, type OutboxRelay, type OutboxRelayOptions } from '../../outbox/relay.ts';
import { relaySubscribers } from '../../outbox/relay-subscribers.ts';
import { integrations, loadIntegrationServers, loadServiceConfig } from '../../packages/integrations/index.ts';
import type { LinearWorkerOverrides } from '../../packages/integrations/linear/server.ts';
import type { LinearSettings } from '../../packages/integrations/linear/settings.ts';
import type { WebhookWorkerOverrides } from '../../packages/integrations/webhooks/server.ts';
import { devServerSqlitePragmas } from '../../temporal-config/index.ts';
import searchAttributeTypes from '../../temporal-config/search-attributes.json' with { type: 'json' };
import {
  bundleWorkflows,
  createQueueWorker,
  createTicketsWorker,
  type WorkerCommon,
} from '../../worker/create-worker.ts';
import { TEST_DATABASE_URL, testDatabase } from './database.ts';
import type { LinearWorkerProcessSettings } from './linear-worker-process.ts';
import { afterRun } from './root-hooks.ts';
import { TEST_CODEC_KEYS } from './temporal-keys.ts';
import { spawnWorkerProcess } from './worker-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NAMESPACE = 'default';

export { TEST_CODEC_KEYS };

export type TestTemporal = {
  address: string;
  namespace: string;
  codecKeys: KeyRing;
  client: TemporalClientHandle['client'];
  /** Stops the server process (the outage); the database file stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same database file and waits until it answers. */
  restart(): Promise<void>;
  /** The workflow bundle, built once per run. */
  workflowBundle(): Promise<WorkflowBundle>;
  /**
   * A worker for the ticket, SLA and Linear workflows on its own task queue; stop it with `stop()`. Unless
   * `webhooks` is false, a webhooks worker runs next to it on the sibling queue (the ticket workflow hands every
   * event to it); unless `linear` is false, so does a Linear worker (the ticket workflow routes events through it).
   */
  startWorker(options: {
    db: Database;
    taskQueue: string;
    webhooks?: TestWebhooksOptions | false;
    linear?: TestLinearOptions | false;
    /** The integration modules to run (default: the product's list); a test may plug in one of its own. */
    integrations?: readonly IntegrationDefinition[];
  }): Promise<RunningWorker>;
  /** A Linear worker alone, on the Linear queue of `ticketsTaskQueue`, to stop and restart on its own. */
  startLinearWorker(options: { db: Database; ticketsTaskQueue: string } & TestLinearOptions): Promise<RunningWorker>;
  /** A webhooks worker alone, on the webhooks queue of `ticketsTaskQueue`, to stop and restart on its own. */
  startWebhooksWorker(
    options: { db: Database; ticketsTaskQueue: string } & TestWebhooksOptions,
  ): Promise<RunningWorker>;
  /**
   * A Linear worker in a child process, on the Linear queue of `ticketsTaskQueue`, that a test can kill with
   * SIGKILL: the crash a graceful `stop()` cannot show (activities neither finish nor report a failure).
   */
  startKillableLinearWorker(options: {
    ticketsTaskQueue: string;
    config: { publicUrl: string; linear: LinearSettings };
  }): Promise<KillableWorker>;
};

export type KillableWorker = {
  /** SIGKILL, and resolves once the process is gone. */
  kill(): Promise<void>;
};

/** What a test may change in the webhooks worker: its settings (short timeouts, retry compression), the poster. */
export type TestWebhooksOptions = WebhookWorkerOverrides;

/** What a test may change in the Linear worker: its config (the Linear fake's URLs, short timeouts). */
export type TestLinearOptions = LinearWorkerOverrides;

export type RunningWorker = {
  worker: Worker;
  /** The webhooks worker started with it, if any. */
  webhooksWorker?: Worker;
  /** The Linear worker started with it, if any. */
  linearWorker?: Worker;
  stop(): Promise<void>;
};

let started: Promise<TestTemporal> | undefined;

/** The run's Temporal server and a client for it (with the test codec), started on first use. */
export function testTemporal(): Promise<TestTemporal> {
  started ??= startTestTemporal();
  return started;
}

/** A task queue no other test file uses, so no worker picks up another file's workflows. */
export function uniqueTaskQueue(name: string): string {
  return `${name}-${randomUUID().slice(0, 8)}`;
}

function temporalBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  return join(ROOT, '.tools/bin/temporal');
}

async function startTestTemporal(): Promise<TestTemporal> {
  const port = Number(process.env.TEST_TEMPORAL_PORT ?? 7253);
  const address = `127.0.0.1:${port}`;
  const dataDir = join(ROOT, '.data/test-temporal');
  const dbFile = join(dataDir, `temporal-${port}.sqlite`);
  mkdirSync(dataDir, { recursive: true });
  for (const suffix of ['', '-wal', '-shm']) rmSync(dbFile + suffix, { force: true });
  // The SDK's Rust core would log every failed poll during the outage test; errors are still shown.
  try {
    Runtime.install({
      logger: new DefaultLogger('ERROR'),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    });
  } catch {
    // Another helper installed the runtime first; its settings stand.
  }

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless'];
  args.push('--db-filename', dbFile, '--log-level', 'error', '--namespace', NAMESPACE);
  for (const pragma of devServerSqlitePragmas) args.push('--sqlite-pragma', pragma);
  for (const [name, type] of Object.entries(searchAttributeTypes)) args.push('--search-attribute', `${name}=${type}`);

  let proc: ChildProcess | undefined;
  const postgres = process.env.TEST_TEMPORAL_SERVER === 'postgres' ? postgresTemporalServer(port) : undefined;
  const log = createWriteStream(join(dataDir, `temporal-${port}.log`), { flags: 'a' });
  const spawnServer = async () => {
    // Another developer's server on this port would answer the readiness check and take our tests' traffic.
    if (await portAnswers(port)) {
      throw new Error(`port ${port} is already in use: set TEST_TEMPORAL_PORT to a free port for this run`);
    }
    if (postgres) {
      await postgres.start();
    } else {
      proc = spawn(temporalBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc.stdout?.pipe(log, { end: false });
      proc.stderr?.pipe(log, { end: false });
    }
    await waitUntilServing(address);
  };
  const stopServer = async () => {
    if (postgres) return postgres.stop();
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  await spawnServer();
  // A run that ends without its after-hooks (a crash, --bail, Ctrl-C) must not leave the server running.
  process.once('exit', () => {
    proc?.kill('SIGKILL');
    postgres?.kill();
  });
  const clientHandle = await connectTemporalClient({ address, namespace: NAMESPACE, codecKeys: TEST_CODEC_KEYS });
  let bundle: Promise<WorkflowBundle> | undefined;
  const workers: RunningWorker[] = [];
  let nativeConnection: NativeConnection | undefined;

  /** Runs a worker until `stop()`, and stops it at the end of the run if a test did not. */
  const running = (worker: Worker): RunningWorker => {
    const run = worker.run();
    const handle: RunningWorker = {
      worker,
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await run;
      },
    };
    workers.push(handle);
    return handle;
  };

  const common = async (): Promise<WorkerCommon> => {
    nativeConnection ??= await NativeConnection.connect({ address });
    return {
      connection: nativeConnection,
      namespace: NAMESPACE,
      codecKeys: TEST_CODEC_KEYS,
      workflowBundle: await temporal.workflowBundle(),
    };
  };
  const workerDeps = async (
    db: Database,
    overrides: WorkerDeps['overrides'],
    list: readonly IntegrationDefinition[] = integrations,
  ): Promise<WorkerDeps> => ({
    db,
    config: loadServiceConfig(process.env, list),
    logger: createLogger(process.env.LOG_LEVEL ?? 'silent'),
    temporal: clientHandle.client,
    overrides,
  });
  /** The queue worker an integration module declares, with a test's overrides of its settings. */
  const moduleWorker = async (
    type: string,
    db: Database,
    ticketsTaskQueue: string,
    overrides: Record<string, unknown>,
  ): Promise<Worker> => {
    const [loaded] = await loadIntegrationServers(integrations.filter((i) => i.type === type));
    const [spec] = loaded!.server.workers?.(await workerDeps(db, { [type]: overrides })) ?? [];
    return createQueueWorker(await common(), spec!, ticketsTaskQueue);
  };

  const temporal: TestTemporal = {
    address,
    namespace: NAMESPACE,
    codecKeys: TEST_CODEC_KEYS,
    client: clientHandle.client,
    stop: stopServer,
    restart: spawnServer,
    workflowBundle: () => {
      bundle ??= bundleWorkflows();
      return bundle;
    },
    async startWebhooksWorker({ db, ticketsTaskQueue, ...options }) {
      return running(await moduleWorker('webhook', db, ticketsTaskQueue, { leaseMarginMs: 500, ...options }));
    },
    async startKillableLinearWorker({ ticketsTaskQueue, config }) {
      const settings: LinearWorkerProcessSettings = {
        address,
        namespace: NAMESPACE,
        databaseUrl: TEST_DATABASE_URL,
        ticketsTaskQueue,
        publicUrl: config.publicUrl,
        linear: config.linear,
      };
      return spawnWorkerProcess({
        script: 'test/support/linear-worker-process.ts',
        env: { SWITCHBOARD_TEST_LINEAR_WORKER: JSON.stringify(settings) },
        readyLine: 'linear worker running',
      });
    },
    async startLinearWorker({ db, ticketsTaskQueue, ...options }) {
      return running(await moduleWorker('linear', db, ticketsTaskQueue, options));
    },
    async startWorker({ db, taskQueue, webhooks = {}, linear = {}, integrations: list = integrations }) {
      const loaded = await loadIntegrationServers(list);
      const overrides = { webhook: webhooks || {}, linear: linear || {} };
      const deps = await workerDeps(db, overrides, list);
      const extra: RunningWorker[] = [];
      let webhooksWorker: Worker | undefined;
      let linearWorker: Worker | undefined;
      for (const { definition, server } of loaded) {
        if ((definition.type === 'webhook' && webhooks === false) || (definition.type === 'linear' && linear === false))
          continue;
        for (const spec of server.workers?.(deps) ?? []) {
          const worker = await createQueueWorker(await common(), spec, taskQueue);
          if (definition.type === 'webhook') webhooksWorker = worker;
          if (definition.type === 'linear') linearWorker = worker;
          extra.push(running(worker));
        }
      }
      const worker = await createTicketsWorker({
        ...(await common()),
        db,
        servers: loaded.map((l) => l.server),
        deps,
        taskQueue,
      });
      const tickets = running(worker);
      return {
        worker,
        ...(webhooksWorker ? { webhooksWorker } : {}),
        ...(linearWorker ? { linearWorker } : {}),
        async stop() {
          await tickets.stop();
          for (const w of extra) await w.stop();
        },
      };
    },
  };

  afterRun(async () => {
    for (const w of workers) await w.stop().catch(() => {});
    await nativeConnection?.close().catch(() => {});
    await clientHandle.close();
    await stopServer();
    log.end();
  });
  return temporal;
}

/**
 * TEST_TEMPORAL_SERVER=postgres: the server as production runs it (PostgreSQL persistence, scripts/temporal-server.sh)
 * instead of the dev server, on this run's port and with databases named after it, dropped at the run's first start
 * so that no run sees another's workflows. stop() and restart() stop and start that server process.
 */
function postgresTemporalServer(port: number) {
  const env = {
    ...process.env,
    TEMPORAL_SERVER_PORT: String(port),
    TEMPORAL_PG_DB: `temporal_test_${port}`,
    TEMPORAL_PG_VISIBILITY_DB: `temporal_test_${port}_visibility`,
    TEMPORAL_NAMESPACE: NAMESPACE,
  };
  const script = (...args: string[]) =>
    new Promise<void>((resolve, reject) => {
      execFile('bash', [join(ROOT, 'scripts/temporal-server.sh'), ...args], { env }, (err, _stdout, stderr) =>
        err ? reject(new Error(`scripts/temporal-server.sh ${args.join(' ')} failed: ${stderr}`)) : resolve(),
      );
    });
  let fresh = true;
  return {
    async start() {
      await script('start', ...(fresh ? ['--fresh'] : []));
      fresh = false;
    },
    stop: () => script('stop'),
    /** Synchronous, for process exit: the server runs detached and would outlive a crashed run. */
    kill() {
      try {
        process.kill(Number(readFileSync(join(ROOT, `.data/temporal-server/${port}.pid`), 'utf8')), 'SIGKILL');
      } catch {
        // Not running.
      }
    },
  };
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Waits until the frontend answers and the namespace and search attributes are usable. */
async function waitUntilServing(address: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.withDeadline(Date.now() + 2_000, async () => {
          await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
          const attrs = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
          for (const name of Object.keys(searchAttributeTypes)) {
            if (!attrs.customAttributes?.[name]) throw new Error(`search attribute ${name} not registered yet`);
          }
        });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`Temporal dev server at ${address} did not become ready: ${String(lastError)}`);
}

/** Retries `check` until it stops throwing (assertions included) or the time is up; returns its last value. */
export async function eventually<T>(
  check: () => Promise<T>,
  { timeoutMs = 15_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export type TestPipeline = { relay: OutboxRelay; worker: RunningWorker; stop(): Promise<void> };

/**
 * The path from outbox to workflows as production runs it (relay + worker on the test database), on a task queue
 * of its own. The relay polls often so tests do not wait for the 1 s fallback when a NOTIFY is not enough.
 */
export async function startPipeline(
  taskQueue: string,
  relayOptions: Partial<OutboxRelayOptions> & { slaWarningShare?: number } = {},
  webhooks: TestWebhooksOptions | false = {},
  linear: TestLinearOptions | false = {},
  list: readonly IntegrationDefinition[] = integrations,
): Promise<TestPipeline> {
  const temporal = await testTemporal();
  const { db, pool } = testDatabase();
  const worker = await temporal.startWorker({ db, taskQueue, webhooks, linear, integrations: list });
  const { slaWarningShare, ...options } = relayOptions;
  const relay = createOutboxRelay({
    pool,
    temporal: temporal.client,
    taskQueue,
    pollIntervalMs: 200,
    subscribers: await testRelaySubscribers(list, slaWarningShare),
    ...options,
  });
  relay.start();
  return {
    relay,
    worker,
    async stop() {
      await relay.stop();
      await worker.stop();
    },
  };
}

/** The relay's subscribers as the worker builds them, from the given integration modules. */
export async function testRelaySubscribers(
  list: readonly IntegrationDefinition[] = integrations,
  slaWarningShare?: number,
): Promise<OutboxRelayOptions['subscribers']> {
  const servers: IntegrationServer[] = (await loadIntegrationServers(list)).map((l) => l.server);
  return relaySubscribers(
    servers,
    loadServiceConfig(process.env, list),
    slaWarningShare === undefined ? {} : { slaWarningShare },
  );
}
