// Core benchmark (issue 2): ticket-create latency over HTTP with the outbox relay running and stopped, and the
// outbox-to-Temporal lag at 50 and 200 ticket changes per second. Real PostgreSQL, a real Temporal dev server
// (its own, on port 7283, SQLite), and the product's own API and worker processes.
//
// Run: npm run bench (or: bash scripts/bench.sh core). Rounds alternate relay-off and relay-on so drift on the
// machine hits both sides; each figure is the median over rounds.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectDatabase, ensureDatabaseExists, runMigrations } from '@switchboard/database';
import pg from 'pg';
import { runOpenLoop } from './lib/open-loop.ts';
import { repoRoot, type Started, startProcess } from './lib/processes.ts';
import { formatMs, median, percentile, printTable } from './lib/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CREATE_COUNT = Number(process.env.BENCH_CREATE_COUNT ?? 500);
const LAG_SECONDS = Number(process.env.BENCH_LAG_SECONDS ?? 10);
const API_PORT = 3083;
const TEMPORAL_PORT = 7283;
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/switchboard_bench';
const baseUrl = `http://127.0.0.1:${API_PORT}`;

const env: Record<string, string> = {
  DATABASE_URL: databaseUrl,
  TEMPORAL_ADDRESS: `127.0.0.1:${TEMPORAL_PORT}`,
  PORT: String(API_PORT),
  PUBLIC_URL: baseUrl,
  LOG_LEVEL: 'info',
  SEED_ADMIN_PASSWORD: 'bench-password-1234',
  BETTER_AUTH_SECRET: process.env.BETTER_AUTH_SECRET ?? 'bench-secret-bench-secret-bench-secret',
  SWITCHBOARD_MASTER_KEYS: process.env.SWITCHBOARD_MASTER_KEYS ?? `k1:${Buffer.alloc(32, 5).toString('base64')}`,
  SWITCHBOARD_CODEC_KEYS: process.env.SWITCHBOARD_CODEC_KEYS ?? `c1:${Buffer.alloc(32, 6).toString('base64')}`,
};

async function freshDatabase() {
  const admin = new pg.Client({ connectionString: databaseUrl.replace(/\/[^/]+$/, '/postgres') });
  await admin.connect();
  await admin.query(`drop database if exists "${new URL(databaseUrl).pathname.slice(1)}" with (force)`);
  await admin.end();
  await ensureDatabaseExists(databaseUrl);
  const handle = connectDatabase(databaseUrl, 1);
  await runMigrations(handle.db);
  await handle.close();
}

function startTemporal() {
  const dataDir = join(repoRoot, '.data/bench-temporal');
  rmSync(dataDir, { recursive: true, force: true });
  execFileSync('bash', [join(repoRoot, 'scripts/temporal.sh'), 'start'], {
    env: {
      ...process.env,
      TEMPORAL_PORT: String(TEMPORAL_PORT),
      TEMPORAL_UI_PORT: '8283',
      TEMPORAL_DB_FILE: join(dataDir, 'bench.sqlite'),
    },
    stdio: 'inherit',
  });
}

function stopTemporal() {
  execFileSync('bash', [join(repoRoot, 'scripts/temporal.sh'), 'stop'], {
    env: { ...process.env, TEMPORAL_PORT: String(TEMPORAL_PORT) },
    stdio: 'inherit',
  });
}

const startApi = () => startProcess('api', 'api/server.ts', env, (line) => line.includes('API listening'));
const startWorker = () => startProcess('worker', 'worker/main.ts', env, (line) => line.includes('worker started'));

async function apiKey(): Promise<string> {
  const signIn = await fetch(`${baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ email: 'admin@acme.test', password: env.SEED_ADMIN_PASSWORD }),
  });
  if (!signIn.ok) throw new Error(`sign-in failed: ${signIn.status} ${await signIn.text()}`);
  const cookie = signIn.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const created = await fetch(`${baseUrl}/api/api-keys`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl, cookie },
    body: JSON.stringify({ name: 'bench' }),
  });
  if (created.status !== 201) throw new Error(`api key failed: ${created.status} ${await created.text()}`);
  return ((await created.json()) as { key: string }).key;
}

function client(key: string) {
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
  return {
    async createTicket(i: number): Promise<{ id: string; version: number }> {
      const res = await fetch(`${baseUrl}/api/tickets`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ subject: `Bench ticket ${i}`, description: 'Printer on fire', priority: 'normal' }),
      });
      if (res.status !== 201) throw new Error(`create: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; version: number };
    },
    async updateTicket(id: string, version: number, i: number): Promise<number> {
      const res = await fetch(`${baseUrl}/api/tickets/${id}`, {
        method: 'PATCH',
        headers,
        body: JSON.stringify({ version, priority: i % 2 ? 'high' : 'low' }),
      });
      if (res.status !== 200) throw new Error(`update: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { version: number }).version;
    },
  };
}

async function waitForOutboxEmpty(pool: pg.Pool, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await pool.query('select count(*)::int as n from ticket_events where dispatched_at is null');
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('outbox did not drain');
}

async function lagSince(pool: pg.Pool, sinceId: number): Promise<number[]> {
  const { rows } = await pool.query(
    `select extract(epoch from (dispatched_at - created_at)) * 1000 as lag from ticket_events where id > $1`,
    [sinceId],
  );
  return rows.map((r) => Number(r.lag));
}

async function maxEventId(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query('select coalesce(max(id), 0)::bigint as id from ticket_events');
  return Number(rows[0].id);
}

/** Ticket changes at a fixed rate: each tick updates one of 20 tickets (round robin), with its current version. */
async function changesAtRate(api: ReturnType<typeof client>, rate: number, seconds: number) {
  const tickets = await Promise.all(Array.from({ length: 20 }, (_, i) => api.createTicket(i)));
  const versions = tickets.map((t) => t.version);
  const busy = tickets.map(() => Promise.resolve());
  return runOpenLoop({
    ratePerSecond: rate,
    count: rate * seconds,
    call: (i) => {
      const slot = i % tickets.length;
      // One ticket's changes are sequential (as a person editing it would be); different tickets run in parallel.
      const next = busy[slot]!.then(async () => {
        versions[slot] = await api.updateTicket(tickets[slot]!.id, versions[slot]!, i);
      });
      busy[slot] = next.catch(() => {});
      return next;
    },
  });
}

async function main() {
  console.log(
    `core benchmark: ${ROUNDS} rounds, ${CREATE_COUNT} creates at 50/s per side, lag runs of ${LAG_SECONDS}s`,
  );
  await freshDatabase();
  startTemporal();
  execFileSync(process.execPath, ['scripts/seed.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  let apiProcess: Started | undefined;
  let worker: Started | undefined;
  const results = {
    createOff: [] as Array<{ p50: number; p99: number }>,
    createOn: [] as Array<{ p50: number; p99: number }>,
    lag50: [] as Array<{ p50: number; p99: number; achieved: number }>,
    lag200: [] as Array<{ p50: number; p99: number; achieved: number }>,
  };
  try {
    apiProcess = await startApi();
    const api = client(await apiKey());
    // Warm up connections, JIT and the ticket workflow code path.
    worker = await startWorker();
    for (let i = 0; i < 50; i++) await api.createTicket(i);
    await waitForOutboxEmpty(pool);

    for (let round = 1; round <= ROUNDS; round++) {
      await worker?.stop();
      worker = undefined;
      const off = await runOpenLoop({
        ratePerSecond: 50,
        count: CREATE_COUNT,
        call: (i) => api.createTicket(i).then(() => {}),
      });
      if (off.errors) throw new Error(`relay-off run had ${off.errors} errors: ${off.firstError}`);
      results.createOff.push({ p50: percentile(off.latenciesMs, 50), p99: percentile(off.latenciesMs, 99) });

      worker = await startWorker();
      await waitForOutboxEmpty(pool); // the backlog from the relay-off run goes out before we measure
      let since = await maxEventId(pool);
      const on = await runOpenLoop({
        ratePerSecond: 50,
        count: CREATE_COUNT,
        call: (i) => api.createTicket(i).then(() => {}),
      });
      if (on.errors) throw new Error(`relay-on run had ${on.errors} errors: ${on.firstError}`);
      results.createOn.push({ p50: percentile(on.latenciesMs, 50), p99: percentile(on.latenciesMs, 99) });
      await waitForOutboxEmpty(pool);

      for (const [rate, bucket] of [
        [50, results.lag50],
        [200, results.lag200],
      ] as const) {
        since = await maxEventId(pool);
        const run = await changesAtRate(api, rate, LAG_SECONDS);
        if (run.errors) throw new Error(`lag run at ${rate}/s had ${run.errors} errors: ${run.firstError}`);
        await waitForOutboxEmpty(pool);
        const lags = await lagSince(pool, since);
        bucket.push({
          p50: percentile(lags, 50),
          p99: percentile(lags, 99),
          achieved: (run.latenciesMs.length / run.durationMs) * 1000,
        });
      }
      console.log(`round ${round} done`);
    }
  } finally {
    await worker?.stop();
    await apiProcess?.stop();
    await pool.end();
    stopTemporal();
  }

  const m = (xs: Array<{ p50: number; p99: number }>, k: 'p50' | 'p99') => median(xs.map((x) => x[k]));
  const offP50 = m(results.createOff, 'p50');
  const onP50 = m(results.createOn, 'p50');
  const offP99 = m(results.createOff, 'p99');
  const onP99 = m(results.createOn, 'p99');
  console.log('\nTicket create over HTTP at 50/s (median of rounds):');
  printTable(
    ['relay', 'p50 ms', 'p99 ms'],
    [
      ['stopped (baseline)', formatMs(offP50), formatMs(offP99)],
      ['running', formatMs(onP50), formatMs(onP99)],
      ['ratio running/stopped', (onP50 / offP50).toFixed(2), (onP99 / offP99).toFixed(2)],
    ],
  );
  console.log('\nOutbox-to-Temporal lag (commit → Signal-With-Start accepted), median of rounds:');
  printTable(
    ['offered changes/s', 'achieved/s', 'p50 ms', 'p99 ms'],
    [
      [
        '50',
        median(results.lag50.map((x) => x.achieved)).toFixed(0),
        formatMs(m(results.lag50, 'p50')),
        formatMs(m(results.lag50, 'p99')),
      ],
      [
        '200',
        median(results.lag200.map((x) => x.achieved)).toFixed(0),
        formatMs(m(results.lag200, 'p50')),
        formatMs(m(results.lag200, 'p99')),
      ],
    ],
  );
}

await main();
