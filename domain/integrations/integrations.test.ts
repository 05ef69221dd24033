import assert from 'node:assert/strict';
import { auditLog, integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { loadConfig } from '../../common/config.ts';
import { credentialContext, credentialsHint, loadIntegrationCredentials } from '../../common/credentials.ts';
import { openJson } from '../../common/crypto/envelope.ts';
import { testDatabase } from '../../test/support/database.ts';
import { createIntegrationWithProbes, updateIntegrationWithProbes } from '../../test/support/probe-integrations.ts';
import { httpError, makeOrganization, writeCounts } from '../test-fixtures.ts';
import { deleteIntegration } from './delete-integration.ts';
import { integrationHealth } from './health.ts';
import { getIntegration, listIntegrations } from './read-integrations.ts';

describe('integration configs', () => {
  const { db } = testDatabase();
  const keys = loadConfig().credentialKeys;
  const token = 'lin_api_5Xq8sQ2mT9vB3nR7kL1pW4yZ';
  const storedRow = async (id: string) =>
    (await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, id)))[0]!;

  it('stores credentials sealed to the record and shows only a hint', async () => {
    const org = await makeOrganization();
    const created = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'linear',
      name: 'Linear',
      config: { teamId: 'team-1' },
      credentials: { apiKey: token },
    });
    assert.equal(created.credentialsHint, 'lin_…W4yZ');
    assert.ok(!JSON.stringify(created).includes(token));
    // Defaults of the Linear config are filled in, so the stored config is complete.
    assert.equal(created.config.teamId, 'team-1');
    assert.equal(created.config.autoCreateIssues, false);
    assert.equal(created.config.conflictPolicy, 'latest');
    const row = await storedRow(created.id);
    assert.ok(!JSON.stringify(row.credentials).includes(token));
    assert.deepEqual(await loadIntegrationCredentials(db, keys, org.organizationId, created.id), { apiKey: token });
  });

  it('seals to the record: the envelope opens for neither another row nor another organisation', async () => {
    const org = await makeOrganization();
    const a = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'probe',
      name: 'A',
      config: {},
      credentials: { botToken: 'xoxb-aaaaaaaaaaaaaaaaaaaaaaaa' },
    });
    const b = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'probe',
      name: 'B',
      config: {},
    });
    const envelope = (await storedRow(a.id)).credentials!;
    await db.update(integrationConfigs).set({ credentials: envelope }).where(eq(integrationConfigs.id, b.id));
    await assert.rejects(loadIntegrationCredentials(db, keys, org.organizationId, b.id), /do not decrypt/);
    assert.throws(() => openJson(keys, envelope, credentialContext('another-org', a.id)), /do not decrypt/);
  });

  it('refuses a config that breaks its type’s schema, naming the field, and writes nothing', async () => {
    const org = await makeOrganization();
    const before = await writeCounts();
    const cases = [
      [
        {
          integrationType: 'webhook',
          name: 'w',
          config: { url: 'ftp://example.com', eventTypes: ['ticket.created'] },
        },
        'config.url',
      ],
      [
        {
          integrationType: 'webhook',
          name: 'w',
          config: { url: 'https://example.com', eventTypes: ['ticket.exploded'] },
        },
        'config.eventTypes.0',
      ],
      [{ integrationType: 'probe-mail', name: 'e', config: { fromAddress: 'nope' } }, 'config.fromAddress'],
      [{ integrationType: 'probe', name: 's', config: { defaultChannel: 42 } }, 'config.defaultChannel'],
      [{ integrationType: 'linear', name: '', config: {} }, 'name'],
      [{ integrationType: 'linear', name: 'l', config: {}, credentials: {} }, 'credentials'],
    ] as const;
    for (const [input, field] of cases)
      await assert.rejects(createIntegrationWithProbes(db, keys, org.scope, input as never), httpError(422, field));
    await assert.rejects(
      createIntegrationWithProbes(db, keys, org.scope, {
        integrationType: 'probe',
        name: 's',
        config: { channel: 'x' },
      } as never),
      /channel/,
    );
    assert.deepEqual(await writeCounts(), before);
  });

  it('updates name, config and credentials, checking config against the stored type', async () => {
    const org = await makeOrganization();
    const created = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'probe-mail',
      name: 'Support mail',
      config: { fromAddress: 'support@acme.test' },
      credentials: { smtpPassword: 'short' },
    });
    assert.equal(created.credentialsHint, '••••');
    await assert.rejects(
      updateIntegrationWithProbes(db, keys, org.scope, created.id, { config: { url: 'https://example.com' } }),
      httpError(422, 'config.url'),
    );
    const updated = await updateIntegrationWithProbes(db, keys, org.scope, created.id, {
      name: 'Mail',
      config: { fromAddress: 'help@acme.test', fromName: 'Acme' },
      credentials: { smtpPassword: 'a-much-longer-password-123' },
    });
    assert.equal(updated.name, 'Mail');
    assert.deepEqual(updated.config, { fromAddress: 'help@acme.test', fromName: 'Acme' });
    assert.equal(updated.credentialsHint, 'a-mu…-123');
    assert.deepEqual(await loadIntegrationCredentials(db, keys, org.organizationId, created.id), {
      smtpPassword: 'a-much-longer-password-123',
    });
    const cleared = await updateIntegrationWithProbes(db, keys, org.scope, created.id, { credentials: null });
    assert.equal(cleared.credentialsHint, null);
    assert.equal((await storedRow(created.id)).credentials, null);
    const audit = await db.select().from(auditLog).where(eq(auditLog.entityId, created.id));
    assert.ok(!JSON.stringify(audit).includes('a-much-longer-password'));
  });

  it("treats another organisation's integration as missing, for reading, updating and deleting", async () => {
    const org = await makeOrganization();
    const other = await makeOrganization();
    const theirs = await createIntegrationWithProbes(db, keys, other.scope, {
      integrationType: 'probe',
      name: 's',
      config: {},
    });
    const before = await writeCounts();
    await assert.rejects(getIntegration(db, org.scope, theirs.id), httpError(404));
    await assert.rejects(updateIntegrationWithProbes(db, keys, org.scope, theirs.id, { name: 'mine' }), httpError(404));
    await assert.rejects(deleteIntegration(db, org.scope, theirs.id), httpError(404));
    await assert.rejects(loadIntegrationCredentials(db, keys, org.organizationId, theirs.id), httpError(404));
    assert.deepEqual(await listIntegrations(db, org.scope), []);
    assert.deepEqual(await writeCounts(), before);
  });

  it('deletes, with an audit row', async () => {
    const org = await makeOrganization();
    const created = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'probe',
      name: 's',
      config: {},
    });
    await deleteIntegration(db, org.scope, created.id);
    await assert.rejects(getIntegration(db, org.scope, created.id), httpError(404));
    const audit = await db.select().from(auditLog).where(eq(auditLog.entityId, created.id));
    assert.deepEqual(audit.map((a) => a.action).sort(), ['integration.created', 'integration.deleted']);
  });

  it('re-enabling clears the reason the system disabled it for', async () => {
    const org = await makeOrganization();
    const created = await createIntegrationWithProbes(db, keys, org.scope, {
      integrationType: 'probe',
      name: 's',
      config: {},
    });
    await db
      .update(integrationConfigs)
      .set({ isActive: false, disabledReason: 'token revoked' })
      .where(eq(integrationConfigs.id, created.id));
    assert.equal((await getIntegration(db, org.scope, created.id)).health.status, 'disabled');
    const enabled = await updateIntegrationWithProbes(db, keys, org.scope, created.id, { isActive: true });
    assert.equal(enabled.health.disabledReason, null);
    assert.equal(enabled.health.status, 'unknown');
  });
});

describe('integrationHealth', () => {
  const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 0, minute));
  const base = { isActive: true, disabledReason: null, lastSuccessAt: null, lastErrorAt: null, lastError: null };

  it('is unknown before anything happened, healthy after a success, failing when the latest outcome is an error', () => {
    assert.equal(integrationHealth(base).status, 'unknown');
    assert.equal(integrationHealth({ ...base, lastSuccessAt: at(1) }).status, 'healthy');
    assert.equal(integrationHealth({ ...base, lastSuccessAt: at(1), lastErrorAt: at(2) }).status, 'failing');
    assert.equal(integrationHealth({ ...base, lastSuccessAt: at(3), lastErrorAt: at(2) }).status, 'healthy');
    assert.equal(integrationHealth({ ...base, lastErrorAt: at(2), lastError: 'boom' }).status, 'failing');
  });

  it('is degraded while links wait on a rate limit, unless it is failing or disabled anyway', () => {
    const waiting = integrationHealth({ ...base, lastSuccessAt: at(1) }, 2);
    assert.deepEqual([waiting.status, waiting.rateLimitedLinks], ['degraded', 2]);
    assert.equal(integrationHealth(base, 1).status, 'degraded');
    assert.equal(integrationHealth({ ...base, lastErrorAt: at(2), lastError: 'boom' }, 1).status, 'failing');
    assert.equal(integrationHealth({ ...base, isActive: false }, 1).status, 'disabled');
    assert.equal(integrationHealth({ ...base, lastSuccessAt: at(1) }, 0).status, 'healthy');
  });

  it('is disabled when switched off or disabled with a reason, whatever happened before', () => {
    assert.equal(integrationHealth({ ...base, isActive: false, lastSuccessAt: at(1) }).status, 'disabled');
    assert.equal(integrationHealth({ ...base, disabledReason: 'too many failures' }).status, 'disabled');
  });
});

describe('credentialsHint', () => {
  it('shows the ends of the longest string secret only when it is long enough', () => {
    assert.equal(credentialsHint({ botToken: 'xoxb-1234567890-abcdefghij', team: 'T1' }), 'xoxb…ghij');
    assert.equal(credentialsHint({ password: 'hunter2hunter2' }), '••••');
    assert.equal(credentialsHint({ port: 587 }), '••••');
  });

  it('never shows a refresh token or a signing secret, however long', () => {
    const long = 'x'.repeat(40);
    assert.equal(credentialsHint({ apiKey: 'lin_api_0123456789abcdef', refreshToken: `r${long}` }), 'lin_…cdef');
    assert.equal(credentialsHint({ webhookSecret: `w${long}`, signingSecret: `s${long}`, clientSecret: long }), '••••');
  });
});
