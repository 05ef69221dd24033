import assert from 'node:assert/strict';
import { loadConfig } from '../../common/config.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createIntegrationWithProbes } from '../../test/support/probe-integrations.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { getIntegration } from './read-integrations.ts';
import { recordIntegrationOutcome } from './record-outcome.ts';

describe('recordIntegrationOutcome', () => {
  const { db } = testDatabase();
  const keys = loadConfig().credentialKeys;
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));

  async function slack() {
    const org = await makeOrganization();
    const integration = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'probe',
      name: 's',
      config: {},
    });
    const health = async () => (await getIntegration(db, org.scope, integration.id)).health;
    const record = (outcome: Parameters<typeof recordIntegrationOutcome>[3]) =>
      recordIntegrationOutcome(db, org.organizationId, integration.id, outcome);
    return { org, integration, health, record };
  }

  it('turns outcomes into health: healthy after a success, failing after a later error, healthy again', async () => {
    const { health, record } = await slack();
    await record({ ok: true, at: at(1) });
    assert.equal((await health()).status, 'healthy');
    await record({ ok: false, error: 'channel_not_found', at: at(2) });
    assert.deepEqual(await health(), {
      status: 'failing',
      rateLimitedLinks: 0,
      lastSuccessAt: at(1).toISOString(),
      lastErrorAt: at(2).toISOString(),
      lastError: 'channel_not_found',
      disabledReason: null,
    });
    await record({ ok: true, at: at(3) });
    assert.equal((await health()).status, 'healthy');
  });

  it('never moves time backwards: a late report of an older attempt changes nothing', async () => {
    const { health, record } = await slack();
    await record({ ok: false, error: 'newer failure', at: at(5) });
    await record({ ok: false, error: 'older failure', at: at(4) });
    await record({ ok: true, at: at(3) });
    const h = await health();
    assert.equal(h.status, 'failing');
    assert.equal(h.lastError, 'newer failure');
    assert.equal(h.lastErrorAt, at(5).toISOString());
  });

  it('disables with a reason for failures a retry cannot fix', async () => {
    const { health, record } = await slack();
    await record({ ok: false, error: 'invalid_auth', disableReason: 'Slack token was revoked' });
    const h = await health();
    assert.equal(h.status, 'disabled');
    assert.equal(h.disabledReason, 'Slack token was revoked');
  });

  it("does not touch another organisation's integration", async () => {
    const { health, integration } = await slack();
    const stranger = await makeOrganization();
    await recordIntegrationOutcome(db, stranger.organizationId, integration.id, { ok: true });
    assert.equal((await health()).status, 'unknown');
  });
});
