// Each integration module reads its own environment variables (packages/integrations/<type>/settings.ts); the
// core config (common/config.ts) reads none of them, and packages/integrations composes the two. A bad value of a
// module's variable stops the process at start, naming the variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../common/config.ts';
import { composeServiceConfig } from '../common/integration-settings.ts';
import { integrations, loadServiceConfig } from '../packages/integrations/index.ts';
import { linearSettings } from '../packages/integrations/linear/settings.ts';
import { webhookSettings } from '../packages/integrations/webhooks/settings.ts';
import { taskQueueRateLimits } from '../temporal-config/index.ts';
import { probeSettings, withProbes } from './support/probe-integrations.ts';

const key = Buffer.alloc(32, 7).toString('base64');
/** The core's required variables and nothing of any module's. */
const env = {
  BETTER_AUTH_SECRET: 's',
  SWITCHBOARD_MASTER_KEYS: `k:${key}`,
  SWITCHBOARD_CODEC_KEYS: `c:${key}`,
  PUBLIC_URL: 'https://desk.example.test',
};

describe("integration modules' settings", () => {
  it('are no part of the core config, which reads none of their variables', () => {
    const badForEveryModule = {
      ...env,
      LINEAR_TIMEOUT_MS: 'soon',
      SWITCHBOARD_WEBHOOK_ALLOW_HTTP: 'yes',
      PROBE_GREETING: 'Two Words',
    };
    const core = loadConfig(badForEveryModule);
    const moduleKeys = ['integrations', ...withProbes.flatMap((i) => [i.type, `${i.type}s`])];
    assert.deepEqual(
      Object.keys(core).filter((k) => moduleKeys.includes(k)),
      [],
    );
    assert.throws(() => loadServiceConfig(badForEveryModule, withProbes));
    const source = readFileSync(new URL('../common/config.ts', import.meta.url), 'utf8').toLowerCase();
    assert.deepEqual(
      // Whole words: the operators' e-mail addresses (operatorEmails) are not the email module.
      integrations.map((i) => i.type).filter((type) => new RegExp(`\\b${type}\\b`).test(source)),
      [],
      'common/config.ts names an integration',
    );
  });

  it("are composed with the core's, by integration type, for every module of the list that declares any", () => {
    const config = loadServiceConfig(env);
    assert.equal(config.publicUrl, 'https://desk.example.test');
    assert.deepEqual(Object.keys(config.integrations), ['webhook', 'linear', 'storage', 'email', 'slack']);
    assert.deepEqual(
      integrations.filter((i) => i.settings).map((i) => i.type),
      ['webhook', 'linear', 'storage', 'email', 'slack'],
    );
  });

  it('have the documented defaults when their variables are unset', () => {
    const config = loadServiceConfig(env);
    assert.deepEqual(webhookSettings.of(config), {
      allowHttp: false,
      allowCidrs: [],
      timeoutMs: 15_000,
      payloadLimitBytes: 262_144,
      retryCompression: 1,
      listenQuietMs: 5_000,
      roundStatementsInFlight: 4,
    });
    assert.deepEqual(linearSettings.of(config), {
      apiUrl: 'https://api.linear.app/graphql',
      authorizeUrl: 'https://linear.app/oauth/authorize',
      tokenUrl: 'https://api.linear.app/oauth/token',
      revokeUrl: 'https://api.linear.app/oauth/revoke',
      clientId: null,
      clientSecret: null,
      // Derived from the core's PUBLIC_URL.
      redirectUri: 'https://desk.example.test/api/linear/oauth/callback',
      scopes: ['read', 'write', 'admin'],
      refreshMarginMs: 300_000,
      timeoutMs: 15_000,
      activitiesPerSecond: taskQueueRateLimits.linear,
    });
  });

  it('are read from their variables', () => {
    const config = loadServiceConfig({
      ...env,
      SWITCHBOARD_WEBHOOK_ALLOW_HTTP: '1',
      SWITCHBOARD_WEBHOOK_ALLOW_CIDRS: ' 10.20.0.0/16, ,::1 ',
      SWITCHBOARD_WEBHOOK_TIMEOUT_MS: '2000',
      SWITCHBOARD_WEBHOOK_RETRY_COMPRESSION: '0.5',
      LINEAR_API_URL: 'http://127.0.0.1:4000/graphql',
      LINEAR_CLIENT_ID: 'app',
      LINEAR_SCOPES: 'read',
      LINEAR_ACTIVITIES_PER_SECOND: '0',
    });
    const webhooks = webhookSettings.of(config);
    assert.equal(webhooks.allowHttp, true);
    assert.deepEqual(webhooks.allowCidrs, ['10.20.0.0/16', '::1']);
    assert.equal(webhooks.timeoutMs, 2_000);
    assert.equal(webhooks.retryCompression, 0.5);
    const linear = linearSettings.of(config);
    assert.equal(linear.apiUrl, 'http://127.0.0.1:4000/graphql');
    assert.equal(linear.clientId, 'app');
    assert.deepEqual(linear.scopes, ['read']);
    assert.equal(linear.activitiesPerSecond, 0, '0 turns the queue-wide cap off');
  });

  it("refuses a bad value of a module's variable, naming the variable", () => {
    const bad: Array<[string, string]> = [
      ['SWITCHBOARD_WEBHOOK_ALLOW_HTTP', 'true'],
      ['SWITCHBOARD_WEBHOOK_ALLOW_CIDRS', '10.0.0.0/33'],
      ['SWITCHBOARD_WEBHOOK_TIMEOUT_MS', '15s'],
      ['SWITCHBOARD_WEBHOOK_TIMEOUT_MS', '0'],
      ['SWITCHBOARD_WEBHOOK_PAYLOAD_LIMIT_BYTES', '256kb'],
      ['SWITCHBOARD_WEBHOOK_RETRY_COMPRESSION', '0'],
      ['LINEAR_API_URL', 'api.linear.app/graphql'],
      ['LINEAR_REDIRECT_URI', 'ftp://desk.example.test/callback'],
      ['LINEAR_TIMEOUT_MS', 'soon'],
      ['LINEAR_REFRESH_MARGIN_MS', '-1'],
      ['LINEAR_ACTIVITIES_PER_SECOND', 'fast'],
    ];
    for (const [name, value] of bad)
      assert.throws(
        () => loadServiceConfig({ ...env, [name]: value }),
        (error: Error) => error.message.startsWith(`${name}`) && error.message.includes(value),
        `${name}=${value}`,
      );
  });

  it('come with a module of the list alone: a module outside the product has its own, read like the others', () => {
    assert.equal(probeSettings.of(loadServiceConfig(env, withProbes)).greeting, 'hello');
    assert.equal(probeSettings.of(loadServiceConfig({ ...env, PROBE_GREETING: 'ahoy' }, withProbes)).greeting, 'ahoy');
    assert.throws(
      () => loadServiceConfig({ ...env, PROBE_GREETING: 'Two Words' }, withProbes),
      /^Error: PROBE_GREETING/,
    );
    // A process whose list does not have the module has none of its settings, and says so when asked.
    assert.throws(() => probeSettings.of(loadServiceConfig(env)), /no settings of the probe integration/);
  });

  it('are changed in a copy by their module, the other settings untouched', () => {
    const config = loadServiceConfig(env);
    const strict = webhookSettings.with(config, { timeoutMs: 500 });
    assert.equal(webhookSettings.of(strict).timeoutMs, 500);
    assert.equal(webhookSettings.of(config).timeoutMs, 15_000);
    assert.equal(linearSettings.of(strict), linearSettings.of(config));
    assert.equal(strict.publicUrl, config.publicUrl);
  });

  it("are stored under the declaring module's type only", () => {
    assert.throws(
      () => composeServiceConfig(env, loadConfig(env), [{ type: 'linear-copy', settings: linearSettings }]),
      /the linear-copy integration declares the settings of linear/,
    );
  });
});
