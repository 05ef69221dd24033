// A real API server for tests: an HTTP server on an ephemeral port against the test database, and
// organisations with signed-in members created the way production creates them (better-auth).
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { member } from '@switchboard/database';
import type { Client } from '@temporalio/client';
import { and, eq } from 'drizzle-orm';
import { type ApiDeps, type App, createApp } from '../../api/app.ts';
import { createApiKey } from '../../api/auth/api-keys.ts';
import type { Auth } from '../../api/auth/better-auth.ts';
import type { Config } from '../../common/config.ts';
import type { Role } from '../../common/enums.ts';
import type { ServiceConfig } from '../../common/integration-settings.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import { integrations, loadServiceConfig } from '../../packages/integrations/index.ts';
import { testDatabase } from './database.ts';

const fixedKey = (byte: number) => Buffer.alloc(32, byte).toString('base64');

/**
 * What a test changes in the config: core fields, or a function of the whole config (for a module's settings:
 * `(config) => webhookSettings.with(config, { allowHttp: false })`).
 */
export type TestConfigOverrides = Partial<Config> | ((config: ServiceConfig) => ServiceConfig);

/**
 * Config for tests, with the settings of the listed integration modules: the environment's secrets if set, fixed
 * test ones otherwise; PUBLIC_URL is the test server.
 */
export function testConfig(
  publicUrl: string,
  overrides: TestConfigOverrides = {},
  list: NonNullable<ApiDeps['integrations']> = integrations,
): ServiceConfig {
  const config = loadServiceConfig(
    {
      ...process.env,
      PUBLIC_URL: publicUrl,
      BETTER_AUTH_SECRET: process.env.BETTER_AUTH_SECRET || 'switchboard-test-secret-0123456789abcdef',
      SWITCHBOARD_MASTER_KEYS: process.env.SWITCHBOARD_MASTER_KEYS || `k1:${fixedKey(1)}`,
      SWITCHBOARD_CODEC_KEYS: process.env.SWITCHBOARD_CODEC_KEYS || `c1:${fixedKey(2)}`,
    },
    list,
  );
  // Tests sign in hundreds of times from 127.0.0.1 within a minute; the production limits are exercised by
  // api/auth/sign-in-limits.test.ts, which passes them explicitly.
  const auth = {
    ...config.auth,
    signInPerAddress: { windowSeconds: 60, max: 1_000_000 },
    otherPerAddress: { windowSeconds: 10, max: 1_000_000 },
  };
  return typeof overrides === 'function' ? overrides({ ...config, auth }) : { ...config, auth, ...overrides };
}

export type TestApi = {
  baseUrl: string;
  deps: ApiDeps;
  app: App;
  auth: Auth;
  close(): Promise<void>;
};

/** Running test APIs, newest last: helpers called without `api` use the newest. */
const running: TestApi[] = [];

export type StartTestApiOptions = {
  temporal?: Client | null;
  config?: TestConfigOverrides;
  dashboardDir?: string;
  /** Defaults to a logger at LOG_LEVEL (silent unless set). */
  logger?: Logger;
  /** The integration modules the app serves (default: the product's list). */
  integrations?: ApiDeps['integrations'];
};

/** Starts the real app on 127.0.0.1:<ephemeral port>. Close it in `after`. */
export async function startTestApi(opts: StartTestApiOptions = {}): Promise<TestApi> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const deps: ApiDeps = {
    db: testDatabase().db,
    config: testConfig(baseUrl, opts.config, opts.integrations),
    logger: opts.logger ?? createLogger(process.env.LOG_LEVEL ?? 'silent'),
    temporal: opts.temporal ?? null,
    dashboardDir: opts.dashboardDir ?? '/nonexistent-dashboard',
    ...(opts.integrations ? { integrations: opts.integrations } : {}),
  };
  const app = await createApp(deps);
  server.on('request', app);
  const api: TestApi = {
    baseUrl,
    deps,
    app,
    auth: app.locals.auth,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
      running.splice(running.indexOf(api), 1);
    },
  };
  running.push(api);
  return api;
}

// biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field and assert on them
export type ApiResponse<T = any> = { status: number; body: T; headers: Headers };
export type FetchOptions = {
  /** How to authenticate: the session cookie (default, sent with the server's Origin like a browser) or the API key. */
  as?: 'cookie' | 'apiKey' | 'none';
  headers?: Record<string, string>;
  /** Sent as-is instead of JSON.stringify(body) (for malformed-body tests). */
  raw?: string;
};

export type TestUser = {
  organizationId: string;
  userId: string;
  email: string;
  password: string;
  role: Role;
  cookie: string;
  apiKey: string;
  apiKeyId: string;
  // biome-ignore lint/suspicious/noExplicitAny: see ApiResponse
  fetch<T = any>(method: string, path: string, body?: unknown, opts?: FetchOptions): Promise<ApiResponse<T>>;
};

/** Plain HTTP against the test API, parsing JSON answers. */
// biome-ignore lint/suspicious/noExplicitAny: see ApiResponse
export async function apiFetch<T = any>(
  api: TestApi,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  raw?: string,
): Promise<ApiResponse<T>> {
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const response = await fetch(`${api.baseUrl}${path}`, {
    method,
    headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: payload,
  });
  const text = await response.text();
  const isJson = response.headers.get('content-type')?.includes('json');
  return { status: response.status, body: (isJson && text ? JSON.parse(text) : text) as T, headers: response.headers };
}

/** Signs in over HTTP like the dashboard does; returns the Cookie header value. */
export async function signIn(api: TestApi, email: string, password: string): Promise<string> {
  const response = await fetch(`${api.baseUrl}/api/auth/sign-in/email`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: api.baseUrl },
    body: JSON.stringify({ email, password }),
  });
  if (response.status !== 200) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  return response.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

function resolveApi(api: TestApi | undefined): TestApi {
  const found = api ?? running.at(-1);
  if (!found) throw new Error('start the test API first (startTestApi)');
  return found;
}

async function signUp(api: TestApi, role: Role, name?: string, givenEmail?: string) {
  const suffix = randomUUID().slice(0, 8);
  const email = givenEmail ?? `${role}-${suffix}@example.test`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const { user } = await api.auth.api.signUpEmail({
    body: { name: name ?? `Test ${role} ${suffix}`, email, password },
  });
  return { userId: user.id, email, password };
}

async function asTestUser(
  api: TestApi,
  organizationId: string,
  role: Role,
  account: { userId: string; email: string; password: string },
): Promise<TestUser> {
  const cookie = await signIn(api, account.email, account.password);
  const key = await createApiKey(api.deps.db, { organizationId, userId: account.userId, name: `test key ${role}` });
  return {
    organizationId,
    ...account,
    role,
    cookie,
    apiKey: key.key,
    apiKeyId: key.id,
    fetch: (method, path, body, opts = {}) => {
      const as = opts.as ?? 'cookie';
      const auth: Record<string, string> =
        as === 'cookie'
          ? { cookie, origin: api.baseUrl }
          : as === 'apiKey'
            ? { authorization: `Bearer ${key.key}` }
            : {};
      return apiFetch(api, method, path, body, { ...auth, ...opts.headers }, opts.raw);
    },
  };
}

/**
 * A new organisation with one signed-in member of the given role (default admin), created through
 * better-auth (sign-up, organisation create), plus an API key that acts with that member's role.
 */
export async function createTestOrganization(
  opts: { role?: Role; name?: string; userName?: string; email?: string; api?: TestApi } = {},
): Promise<TestUser> {
  const api = resolveApi(opts.api);
  const role = opts.role ?? 'admin';
  const account = await signUp(api, role, opts.userName, opts.email);
  const suffix = randomUUID().slice(0, 8);
  const org = await api.auth.api.createOrganization({
    body: { name: opts.name ?? `Test Org ${suffix}`, slug: `test-${suffix}`, userId: account.userId },
  });
  if (!org) throw new Error('organisation was not created');
  // better-auth makes the creator an admin; other roles are a membership change, as an admin would make it.
  if (role !== 'admin')
    await api.deps.db
      .update(member)
      .set({ role })
      .where(and(eq(member.organizationId, org.id), eq(member.userId, account.userId)));
  return asTestUser(api, org.id, role, account);
}

/** Another signed-in member of an existing organisation (added through better-auth's addMember). */
export async function addTestMember(
  organizationId: string,
  opts: { role?: Role; name?: string; email?: string; api?: TestApi } = {},
): Promise<TestUser> {
  const api = resolveApi(opts.api);
  const role = opts.role ?? 'agent';
  const account = await signUp(api, role, opts.name, opts.email);
  await api.auth.api.addMember({ body: { userId: account.userId, organizationId, role } });
  return asTestUser(api, organizationId, role, account);
}
