// The product's stack for a benchmark: a fresh database, its own Temporal server, the seeded demo organisation, and
// the product's own API and worker processes started as `npm start` starts them. The Temporal server is the dev
// server (SQLite) unless BENCH_TEMPORAL=postgres asks for the server as production runs it (PostgreSQL persistence,
// scripts/temporal-server.sh), so that both can be measured with the same benchmark.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectDatabase, ensureDatabaseExists, runMigrations } from '@switchboard/database';
import pg from 'pg';
import type { Scope } from '../../domain/scope.ts';
import { API_NODE_FLAGS, WORKER_NICENESS, WORKER_NODE_FLAGS } from '../../worker/node-flags.ts';
import { repoRoot, startProcess } from './processes.ts';

export type BenchStack = ReturnType<typeof benchStack>;

export function benchStack(name: string, ports: { api: number; temporal: number; temporalUi: number }) {
  const databaseUrl = `postgres://postgres@127.0.0.1:5432/switchboard_bench_${name}`;
  const baseUrl = `http://127.0.0.1:${ports.api}`;
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: `127.0.0.1:${ports.temporal}`,
    PORT: String(ports.api),
    PUBLIC_URL: baseUrl,
    LOG_LEVEL: 'info',
    SEED_ADMIN_PASSWORD: 'bench-password-1234',
    BETTER_AUTH_SECRET: 'bench-secret-bench-secret-bench-secret',
    SWITCHBOARD_MASTER_KEYS: `k1:${Buffer.alloc(32, 5).toString('base64')}`,
    SWITCHBOARD_CODEC_KEYS: `c1:${Buffer.alloc(32, 6).toString('base64')}`,
    // The benchmark's receivers listen on loopback over plain http.
    SWITCHBOARD_WEBHOOK_ALLOW_HTTP: '1',
    SWITCHBOARD_WEBHOOK_ALLOW_CIDRS: '127.0.0.0/8',
    // A running `npm start` worker may hold the default metrics port.
    WORKER_METRICS_PORT: '0',
  };
  const temporalEnv = {
    ...process.env,
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.temporalUi),
    TEMPORAL_DB_FILE: join(repoRoot, `.data/bench-temporal-${name}/bench.sqlite`),
    TEMPORAL_SERVER_PORT: String(ports.temporal),
    TEMPORAL_PG_DB: `temporal_bench_${name}`,
    TEMPORAL_PG_VISIBILITY_DB: `temporal_bench_${name}_visibility`,
  };
  const temporalServer = benchTemporalServer();
  const temporalScript = (...args: string[]) =>
    execFileSync('bash', [join(repoRoot, temporalServer.script), ...args], { env: temporalEnv, stdio: 'inherit' });

  return {
    env,
    baseUrl,
    databaseUrl,
    pool: () => new pg.Pool({ connectionString: databaseUrl, max: 4 }),

    async prepare() {
      const admin = new pg.Client({ connectionString: databaseUrl.replace(/\/[^/]+$/, '/postgres') });
      await admin.connect();
      await admin.query(`drop database if exists "switchboard_bench_${name}" with (force)`);
      await admin.end();
      await ensureDatabaseExists(databaseUrl);
      const handle = connectDatabase(databaseUrl, 1);
      await runMigrations(handle.db);
      await handle.close();
      rmSync(join(repoRoot, `.data/bench-temporal-${name}`), { recursive: true, force: true });
      console.log(
        `Temporal server: ${temporalServer.kind === 'postgres' ? 'PostgreSQL-backed' : 'dev server (SQLite)'}`,
      );
      // Both start from empty: the dev server on a new SQLite file, the PostgreSQL one on dropped databases.
      temporalScript('start', ...(temporalServer.kind === 'postgres' ? ['--fresh'] : []));
      execFileSync(process.execPath, ['scripts/seed.ts'], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
    },

    /** Which Temporal server the benchmark runs against, for its report. */
    temporalServer: temporalServer.kind,

    stopTemporal() {
      temporalScript('stop');
    },

    startApi: () =>
      startProcess(
        'api',
        'api/server.ts',
        // The API's V8 flags as the scripts and compose give them (worker/node-flags.ts), or the experiment's.
        { ...env, NODE_OPTIONS: process.env.BENCH_API_NODE_OPTIONS ?? API_NODE_FLAGS.join(' ') },
        (line) => line.includes('API listening'),
      ),
    startWorker: () =>
      startProcess(
        'worker',
        'worker/main.ts',
        // The worker's V8 flags as the scripts and compose give them (worker/node-flags.ts), or the experiment's.
        { ...env, NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS ?? WORKER_NODE_FLAGS.join(' ') },
        (line) => line.includes('worker started'),
        // Its CPU priority as the scripts and compose give it, or the experiment's (BENCH_WORKER_NICENESS=0).
        Number(process.env.BENCH_WORKER_NICENESS ?? WORKER_NICENESS),
      ),

    /** Signs in as the seeded admin and creates an API key for the benchmark. */
    async apiKey(): Promise<string> {
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
    },
  };
}

/** BENCH_TEMPORAL: `dev` (default, the SQLite dev server of scripts/temporal.sh) or `postgres`. */
export function benchTemporalServer(): { kind: 'dev' | 'postgres'; script: string } {
  const kind = process.env.BENCH_TEMPORAL ?? 'dev';
  if (kind === 'postgres') return { kind, script: 'scripts/temporal-server.sh' };
  if (kind === 'dev') return { kind, script: 'scripts/temporal.sh' };
  throw new Error(`BENCH_TEMPORAL must be dev or postgres, not ${JSON.stringify(kind)}`);
}

/** A small JSON client for the API with an API key. */
export function apiClient(baseUrl: string, key: string) {
  return async function call<T>(method: string, path: string, body?: unknown, expect = 200): Promise<T> {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status !== expect) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.status === 204 ? undefined : await res.json()) as T;
  };
}

/** The scope of the API key's user, for changes the benchmark makes through the domain as that user would. */
export async function userScope(call: ReturnType<typeof apiClient>): Promise<Scope> {
  const me = await call<{ organization: { id: string }; user: { id: string } }>('GET', '/api/me');
  return { organizationId: me.organization.id, actor: { type: 'user', id: me.user.id }, userId: me.user.id };
}

export async function waitForOutboxEmpty(pool: pg.Pool, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await pool.query('select count(*)::int as n from ticket_events where dispatched_at is null');
    if (rows[0].n === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('outbox did not drain');
}
