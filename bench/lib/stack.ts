// The product's stack for a benchmark: a fresh database, its own Temporal dev server (SQLite), the seeded demo
// organisation, and the product's own API and worker processes started as `npm start` starts them.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { connectDatabase, ensureDatabaseExists, runMigrations } from '@switchboard/database';
import pg from 'pg';
import type { Scope } from '../../domain/scope.ts';
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
  };

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
      execFileSync('bash', [join(repoRoot, 'scripts/temporal.sh'), 'start'], { env: temporalEnv, stdio: 'inherit' });
      execFileSync(process.execPath, ['scripts/seed.ts'], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        stdio: 'ignore',
      });
    },

    stopTemporal() {
      execFileSync('bash', [join(repoRoot, 'scripts/temporal.sh'), 'stop'], { env: temporalEnv, stdio: 'inherit' });
    },

    startApi: () => startProcess('api', 'api/server.ts', env, (line) => line.includes('API listening')),
    startWorker: () => startProcess('worker', 'worker/main.ts', env, (line) => line.includes('worker started')),

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
