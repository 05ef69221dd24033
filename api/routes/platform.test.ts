import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLogger } from '../../common/logger.ts';
import { createOutboxRelay } from '../../outbox/relay.ts';
import { loadIntegrationServers } from '../../packages/integrations/index.ts';
import { apiFetch, createTestOrganization, startTestApi, type TestApi } from '../../test/support/api.ts';
import { testDatabase, truncateAll } from '../../test/support/database.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const noopWorkflows = fileURLToPath(new URL('../../test/support/noop-workflows.ts', import.meta.url));
/** This file's own Temporal dev server (no other test uses the port). */
const TEMPORAL_PORT = 7291;

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function startTemporalDevServer(): Promise<{ process: ChildProcess; stop(): Promise<void> }> {
  const dataDir = `${ROOT}.data/test-platform-temporal`;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(
    `${ROOT}.tools/bin/temporal`,
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(TEMPORAL_PORT),
      '--db-filename',
      `${dataDir}/dev.sqlite`,
      '--log-level',
      'error',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 300 && !(await portAnswers(TEMPORAL_PORT)); i++) await new Promise((r) => setTimeout(r, 100));
  return {
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('platform endpoints', () => {
  let api: TestApi;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
  });
  after(() => api.close());

  it('/healthz answers ok without authentication', async () => {
    const response = await apiFetch(api, 'GET', '/healthz');
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { status: 'ok' });
  });

  it('/readyz is 503 naming Temporal when there is no Temporal client', async () => {
    const response = await apiFetch(api, 'GET', '/readyz');
    assert.equal(response.status, 503);
    assert.equal(response.body.status, 'not_ready');
    assert.deepEqual(
      { database: response.body.checks.database, temporal: response.body.checks.temporal },
      { database: 'ok', temporal: 'unavailable' },
    );
    assert.equal(response.body.checks.workers, 'unknown', 'without Temporal nobody can tell who polls');
  });

  it('/readyz tells anonymous callers which dependency is down, and only the log why', async () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      'test',
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const reason = 'connect ECONNREFUSED temporal.internal.corp 10.9.8.7:7233';
    // A client whose every call fails the way an unreachable frontend does.
    const failing = {
      connection: { withAbortSignal: () => Promise.reject(new Error(reason)) },
      workflowService: {},
    } as unknown as Client;
    const broken = await startTestApi({ temporal: failing, logger });
    try {
      const response = await apiFetch(broken, 'GET', '/readyz');
      assert.equal(response.status, 503);
      assert.equal(response.body.status, 'not_ready');
      assert.equal(response.body.checks.temporal, 'unavailable');
      assert.doesNotMatch(JSON.stringify(response.body), /10\.9\.8\.7|internal/);
      assert.match(lines.join(''), /temporal\.internal\.corp 10\.9\.8\.7/, 'the operators find the reason in the log');
    } finally {
      await broken.close();
    }
  });

  it('/metrics exposes process metrics and request durations by route template and status', async () => {
    const admin = await createTestOrganization();
    await admin.fetch('GET', '/api/me');
    await admin.fetch('DELETE', '/api/api-keys/no-such-key');
    const response = await apiFetch(api, 'GET', '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type')!, /^text\/plain/);
    assert.match(response.body, /^process_cpu_user_seconds_total /m);
    assert.match(response.body, /http_request_duration_seconds_count\{method="GET",route="\/api\/me",status="200"\} 1/);
    assert.match(
      response.body,
      /http_request_duration_seconds_count\{method="DELETE",route="\/api\/api-keys\/:id",status="404"\} 1/,
    );
    assert.ok(!response.body.includes('no-such-key'), 'raw paths never become labels');
  });

  it('/openapi.json serves the document with its security schemes', async () => {
    const response = await apiFetch(api, 'GET', '/openapi.json');
    assert.equal(response.status, 200);
    assert.equal(response.body.openapi, '3.1.0');
    assert.deepEqual(Object.keys(response.body.components.securitySchemes).sort(), [
      'apiKey',
      'bearer',
      'sessionCookie',
    ]);
    assert.ok(response.body.paths['/api/api-keys/{id}'].delete);
  });

  describe('/readyz with a Temporal server', function () {
    this.timeout(60_000);
    let temporal: Awaited<ReturnType<typeof startTemporalDevServer>>;
    let connection: Connection;
    let withTemporal: TestApi;
    before(async () => {
      temporal = await startTemporalDevServer();
      // No gRPC retry interceptor: its retry timers outlive a failed call and would fire after close().
      connection = await Connection.connect({ address: `127.0.0.1:${TEMPORAL_PORT}`, interceptors: [] });
      withTemporal = await startTestApi({ temporal: new Client({ connection }) });
    });
    after(async () => {
      await withTemporal?.close();
      await connection?.close();
      await temporal?.stop();
    });

    /** The queues the API checks: the tickets queue and every module's, with whether each runs workflows. */
    /** The tickets queue and every queue the modules declare, as /readyz expects them served. */
    async function expectedQueues() {
      const tickets = withTemporal.deps.config.temporal.ticketsTaskQueue;
      const servers = await loadIntegrationServers();
      return [
        { name: tickets, workflows: true },
        ...servers.flatMap(({ server }) => server.taskQueues?.(tickets) ?? []),
      ];
    }

    /** Reads /readyz until it says `status` (it caches its answer for 2 s), or gives up after 15 s. */
    async function readyzUntil(status: string) {
      let answer = await apiFetch(withTemporal, 'GET', '/readyz');
      for (let i = 0; i < 75 && answer.body.status !== status; i++) {
        await new Promise((r) => setTimeout(r, 200));
        answer = await apiFetch(withTemporal, 'GET', '/readyz');
      }
      return answer;
    }

    it('is degraded, not ready, while no worker polls the task queues and no relay runs', async () => {
      const response = await apiFetch(withTemporal, 'GET', '/readyz');
      assert.equal(response.status, 200, 'the API serves: every write waits in the outbox');
      assert.deepEqual(response.body, {
        status: 'degraded',
        checks: { database: 'ok', temporal: 'ok', workers: 'missing', relay: 'missing' },
      });
    });

    it('is ready only once workers poll every queue, for workflow tasks too where it runs workflows, and a relay runs', async () => {
      const workerConnection = await NativeConnection.connect({ address: `127.0.0.1:${TEMPORAL_PORT}` });
      const activities = { noop: async () => undefined };
      const database = testDatabase();
      const relay = createOutboxRelay({
        pool: database.pool,
        temporal: withTemporal.deps.temporal!,
        subscribers: [],
        pollIntervalMs: 200,
      });
      relay.start();
      const started: Worker[] = [];
      const running: Promise<void>[] = [];
      const start = async (options: Parameters<typeof Worker.create>[0]) => {
        const worker = await Worker.create(options);
        started.push(worker);
        running.push(worker.run());
      };
      try {
        // Activity pollers alone do not serve a queue whose workflows nobody runs.
        for (const { name } of await expectedQueues())
          await start({ connection: workerConnection, taskQueue: name, activities });
        // Once the relay shows, the activity pollers have long been polling too (one 2 s cache later, certainly).
        let activitiesOnly = await apiFetch(withTemporal, 'GET', '/readyz');
        for (let i = 0; i < 75 && activitiesOnly.body.checks.relay !== 'ok'; i++) {
          await new Promise((r) => setTimeout(r, 200));
          activitiesOnly = await apiFetch(withTemporal, 'GET', '/readyz');
        }
        await new Promise((r) => setTimeout(r, 2500));
        activitiesOnly = await apiFetch(withTemporal, 'GET', '/readyz');
        assert.deepEqual(activitiesOnly.body.checks, {
          database: 'ok',
          temporal: 'ok',
          workers: 'missing',
          relay: 'ok',
        });

        for (const { name } of (await expectedQueues()).filter((q) => q.workflows))
          await start({ connection: workerConnection, taskQueue: name, workflowsPath: noopWorkflows });
        const answer = await readyzUntil('ready');
        assert.equal(answer.status, 200);
        assert.deepEqual(answer.body, {
          status: 'ready',
          checks: { database: 'ok', temporal: 'ok', workers: 'ok', relay: 'ok' },
        });
      } finally {
        await relay.stop();
        for (const w of started) w.shutdown();
        await Promise.all(running);
        await workerConnection.close();
      }
    });

    it('is 503 naming Temporal, within seconds, when Temporal goes away', async () => {
      await temporal.stop();
      // Past the 2 s in which one computed answer serves every caller.
      await new Promise((r) => setTimeout(r, 2100));
      const started = Date.now();
      const response = await apiFetch(withTemporal, 'GET', '/readyz');
      assert.equal(response.status, 503);
      assert.equal(response.body.checks.database, 'ok');
      assert.notEqual(response.body.checks.temporal, 'ok');
      assert.ok(Date.now() - started < 5000, 'the check has a short timeout');
    });
  });
});
