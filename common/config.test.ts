import assert from 'node:assert/strict';
import { loadConfig, parseKeyRing } from './config.ts';

describe('parseKeyRing', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('makes the last key active unless an active key id is named', () => {
    assert.equal(parseKeyRing(`a:${key},b:${key}`, undefined, 'X').activeKeyId, 'b');
    assert.equal(parseKeyRing(`a:${key},b:${key}`, 'a', 'X').activeKeyId, 'a');
  });

  it('refuses keys that are not 32 bytes, naming the key id', () => {
    assert.throws(() => parseKeyRing('a:AAAA', undefined, 'X'), /key a must be 32 bytes/);
  });

  it('refuses an active key id that is not in the ring', () => {
    assert.throws(() => parseKeyRing(`a:${key}`, 'zz', 'X'), /active key id zz/);
  });
});

describe('loadConfig', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const env = { BETTER_AUTH_SECRET: 's', SWITCHBOARD_MASTER_KEYS: `k:${key}`, SWITCHBOARD_CODEC_KEYS: `c:${key}` };

  it('reads the operators as a list of e-mails, any case and spacing; none unless the deployment names them', () => {
    assert.deepEqual(loadConfig(env).operatorEmails, []);
    assert.deepEqual(
      loadConfig({ ...env, SWITCHBOARD_OPERATOR_EMAILS: ' Ops@Example.com, ,oncall@example.com ' }).operatorEmails,
      ['ops@example.com', 'oncall@example.com'],
    );
  });

  it("bounds each worker's workflow cache: 250 unless WORKER_MAX_CACHED_WORKFLOWS says otherwise", () => {
    assert.equal(loadConfig(env).workerMaxCachedWorkflows, 250);
    assert.equal(loadConfig({ ...env, WORKER_MAX_CACHED_WORKFLOWS: '40' }).workerMaxCachedWorkflows, 40);
  });

  it('calls the relay lagging after RELAY_LAG_LIMIT_SECONDS (60 by default)', () => {
    assert.equal(loadConfig(env).relayLagLimitSeconds, 60);
    assert.equal(loadConfig({ ...env, RELAY_LAG_LIMIT_SECONDS: '5' }).relayLagLimitSeconds, 5);
  });
});
