// Deliveries per second through the delivery engine: pending deliveries in PostgreSQL → the webhook dispatcher →
// batches → a receiver in another process, with everything recorded (attempt rows, delivery updates). Not part
// of `npm test`; run: TEST_TEMPORAL_PORT=<free port> mocha --no-config --require test/support/root-hooks.ts
// --timeout 600000 bench/webhook-batches.ts  (env: MESSAGES per endpoint count, default 20000 total; ENDPOINT_LANES,
// each endpoint's maxConcurrency, default 64 shared by the endpoints; ENDPOINTS, the counts to run, default 1,10,100;
// DIRECT=1, the same batches without Temporal, see below; PER_ENDPOINT=1, a wake of each endpoint's own workflow,
// which (since the dispatcher) announces its endpoint to the dispatcher: what a workflow per endpoint costs).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'drizzle-orm';
import { createSafePoster } from '../activities/http/safe-post.ts';
import { deliverDueBatch } from '../activities/webhooks/deliver-batch.ts';
import { makeEndpoint, type TestEndpoint } from '../activities/webhooks/test-support.ts';
import { dispatchEndpoints, wakeEndpoint } from '../activities/webhooks/wake.ts';
import { loadConfig } from '../common/config.ts';
import { MAX_RATE_LIMIT_PER_SECOND } from '../common/webhooks/endpoint-limits.ts';
import { makeOrganization } from '../domain/test-fixtures.ts';
import { loadServiceConfig } from '../packages/integrations/index.ts';
import { webhookSettings } from '../packages/integrations/webhooks/settings.ts';
import { testDatabase } from '../test/support/database.ts';
import { type RunningWorker, testTemporal, uniqueTaskQueue } from '../test/support/temporal.ts';
import { webhooksTaskQueueFor } from '../workflows/webhook-endpoint-contract.ts';

const TOTAL = Number(process.env.MESSAGES ?? 20_000);
/** bench/webhooks.ts gives every endpoint 64 (BENCH_ENDPOINT_LANES); unset, the endpoints share 64. */
const ENDPOINT_LANES = process.env.ENDPOINT_LANES === undefined ? undefined : Number(process.env.ENDPOINT_LANES);
const ENDPOINT_COUNTS = (process.env.ENDPOINTS ?? '1,10,100').split(',').map(Number);
/** A directory: each case writes a CPU profile of this process (worker and benchmark) while it delivers. */
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE;
/**
 * DIRECT=1: no Temporal at all. Each endpoint's batches are called in this process, one after another until nothing
 * is due, all endpoints at once: what any design that keeps a batch per endpoint could reach if a burst cost Temporal
 * nothing (the ceiling of a dispatcher that serves endpoints without waking their workflows). No listening.
 */
const DIRECT = process.env.DIRECT === '1';

/** Profiles the main thread (the activities) while `run` runs, as `node --cpu-prof` would, but only then. */
async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return run();
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))),
    );
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    return await run();
  } finally {
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}

/** A process's CPU time (user + system) in ms, from /proc (Linux): for the receiver, which runs in its own process. */
function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function startReceiverProcess(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, [new URL('../test/receivers/serve.ts', import.meta.url).pathname], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const first = await createInterface({ input: child.stdout! })[Symbol.asyncIterator]().next();
  return { port: (JSON.parse(first.value as string) as { port: number }).port, child };
}

describe('webhook delivery throughput', function () {
  this.timeout(600_000);
  let worker: RunningWorker;
  let receiver: { port: number; child: ChildProcess };
  const ticketsQueue = uniqueTaskQueue('webhook-bench');

  before(async () => {
    const temporal = await testTemporal();
    worker = await temporal.startWebhooksWorker({ db: testDatabase().db, ticketsTaskQueue: ticketsQueue });
    receiver = await startReceiverProcess();
  });
  after(async () => {
    await worker?.stop();
    receiver?.child.kill('SIGTERM');
  });

  for (const endpointCount of ENDPOINT_COUNTS) {
    it(`${endpointCount} endpoint(s)`, async () => {
      const { db } = testDatabase();
      const temporal = await testTemporal();
      const org = await makeOrganization();
      const endpoints: TestEndpoint[] = [];
      for (let i = 0; i < endpointCount; i++) {
        endpoints.push(
          await makeEndpoint(org.organizationId, {
            url: `http://127.0.0.1:${receiver.port}/e${i}`,
            // Unpaced, and 64 requests in flight in all, like the BullMQ peer of bench/webhooks.ts.
            rateLimitPerSecond: MAX_RATE_LIMIT_PER_SECOND,
            maxConcurrency: ENDPOINT_LANES ?? Math.max(4, Math.ceil(64 / endpointCount)),
          }),
        );
      }
      const perEndpoint = Math.ceil(TOTAL / endpointCount);
      const payload = JSON.stringify({
        type: 'ticket.updated',
        timestamp: new Date().toISOString(),
        data: { ticket: { id: 'c0ffee', number: 4821, status: 'open', subject: 'Printer on fire'.repeat(4) } },
      });
      await db.execute(sql`insert into webhook_messages (id, organization_id, event_type, payload)
        select 'msg_bench' || ${endpointCount} || '_' || g, ${org.organizationId}, 'ticket.updated', ${payload}::jsonb
        from generate_series(1, ${perEndpoint}) g`);
      await db.execute(sql`insert into webhook_deliveries (organization_id, endpoint_id, message_id, next_attempt_at)
        select ${org.organizationId}, e.id, 'msg_bench' || ${endpointCount} || '_' || g, now()
        from generate_series(1, ${perEndpoint}) g, unnest(${sql.raw(`array[${endpoints.map((e) => `'${e.id}'::uuid`).join(',')}]`)}) as e(id)`);
      const total = perEndpoint * endpointCount;
      // Transactions the database committed meanwhile: each autocommit statement is one, so this counts round trips
      // (plus the benchmark's own polling, ten a second).
      const commits = async () =>
        Number(
          (
            await db.execute<{ n: string }>(
              sql`select xact_commit as n from pg_stat_database where datname = current_database()`,
            )
          ).rows[0]!.n,
        );
      const commitsBefore = await commits();
      // The worker runs in this process: its CPU (main thread, workflow thread, Temporal's core) over the run.
      const cpuBefore = process.cpuUsage();
      const receiverCpuBefore = processCpuMs(receiver.child.pid);
      const started = performance.now();
      await profiled(`${endpointCount}-endpoints`, async () => {
        if (DIRECT) {
          const settings = webhookSettings.of(loadServiceConfig());
          const poster = createSafePoster({
            allowHttp: settings.allowHttp,
            allowCidrs: settings.allowCidrs,
            timeoutMs: settings.timeoutMs,
            maxPayloadBytes: settings.payloadLimitBytes,
          });
          // As the harness's worker runs them (test/support/temporal.ts): its lease margin, the batch activity's
          // two-minute limit. What differs: no listening (each batch ends once nothing is due), no heartbeat.
          const deps = {
            db,
            credentialKeys: loadConfig().credentialKeys,
            poster,
            timeoutMs: settings.timeoutMs,
            retryCompression: 1,
            leaseMarginMs: 500,
            timeLimitMs: 120_000,
            heartbeat: () => {},
          };
          await Promise.all(
            endpoints.map(async (e) => {
              for (;;) {
                const result = await deliverDueBatch(deps, {
                  endpointId: e.id,
                  organizationId: org.organizationId,
                  maxBatch: 1000,
                });
                if (!result.more) return;
              }
            }),
          );
          poster.close();
        } else if (process.env.PER_ENDPOINT === '1') {
          // A wake of each endpoint's own workflow, which announces the endpoint to the dispatcher (until the
          // dispatcher it ran the batches itself; its commit, 8f18f64, measures that).
          await Promise.all(
            endpoints.map((e) =>
              wakeEndpoint(temporal.client, e.id, org.organizationId, {
                taskQueue: webhooksTaskQueueFor(ticketsQueue),
              }),
            ),
          );
        } else {
          // As the product announces them: to the dispatcher, in one signal.
          await dispatchEndpoints(
            temporal.client,
            endpoints.map((e) => ({ endpointId: e.id, organizationId: org.organizationId })),
            { taskQueue: webhooksTaskQueueFor(ticketsQueue) },
          );
        }
        // Counted through the endpoints' index, so the polling costs the database little beside the run.
        const ids = sql.raw(endpoints.map((e) => `'${e.id}'::uuid`).join(','));
        for (;;) {
          const result = await db.execute<{ n: number }>(sql`select count(*)::int as n from webhook_deliveries
            where endpoint_id = any(array[${ids}]) and status = 'succeeded'`);
          if (result.rows[0]!.n >= total) break;
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const receiverCpuMs = processCpuMs(receiver.child.pid) - receiverCpuBefore;
      // pg_stat_database is updated when a session reports (at most every second or so): let it catch up.
      await new Promise((r) => setTimeout(r, 1500));
      const transactions = (await commits()) - commitsBefore;
      console.log(
        `      ${endpointCount} endpoint(s): ${total} deliveries in ${seconds.toFixed(1)} s = ${Math.round(total / seconds)}/s, ` +
          `${(transactions / total).toFixed(3)} database transactions per delivery, ` +
          `worker process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s = ${((cpu.user + cpu.system) / 1000 / total).toFixed(3)} ms per delivery, receiver process ${(receiverCpuMs / total).toFixed(3)} ms per delivery ` +
          `(epoch s ${(Date.now() / 1000 - 1.5 - seconds).toFixed(1)}–${(Date.now() / 1000 - 1.5).toFixed(1)})`,
      );
      assert.ok(total / seconds > 0);
    });
  }
});
