import assert from 'node:assert/strict';
import { loadConfig } from '../../common/config.ts';
import { loadIntegrationCredentials } from '../../common/credentials.ts';
import { testDatabase } from '../../test/support/database.ts';
import { makeOrganization } from '../test-fixtures.ts';
import { createEndpoint } from './create-endpoint.ts';
import { rotateEndpointSecret } from './rotate-secret.ts';
import { updateEndpoint } from './update-endpoint.ts';

describe('rotating an endpoint secret', () => {
  const { db } = testDatabase();
  const settings = { keys: loadConfig().credentialKeys, policy: { allowHttp: false, allowCidrs: [] } };
  const stored = async (organizationId: string, id: string) =>
    (await loadIntegrationCredentials(db, settings.keys, organizationId, id)) as Record<string, unknown>;

  it('keeps only the secret it replaced: one rotated away earlier stops signing at once', async () => {
    const org = await makeOrganization();
    const { endpoint, secret: first } = await createEndpoint(db, settings, org.scope, {
      url: 'https://hooks.example.test/',
      eventTypes: ['ticket.created'],
    });
    const now = new Date('2026-11-27T09:00:00Z');
    const second = await rotateEndpointSecret(db, settings, org.scope, endpoint.id, { overlapHours: 2 }, now);
    assert.equal(second.previousSecretValidUntil, '2026-11-27T11:00:00.000Z');
    const third = await rotateEndpointSecret(db, settings, org.scope, endpoint.id, {}, now);
    const credentials = await stored(org.organizationId, endpoint.id);
    assert.deepEqual(credentials, {
      secret: third.secret,
      previousSecret: second.secret,
      previousSecretValidUntil: '2026-11-28T09:00:00.000Z',
    });
    assert.ok(!JSON.stringify(credentials).includes(first));
  });

  it('never loses a concurrent change to the same sealed credentials (row lock)', async () => {
    const org = await makeOrganization();
    const { endpoint } = await createEndpoint(db, settings, org.scope, {
      url: 'https://hooks.example.test/',
      eventTypes: ['ticket.created'],
    });
    const [rotated] = await Promise.all([
      rotateEndpointSecret(db, settings, org.scope, endpoint.id, {}),
      updateEndpoint(db, settings, org.scope, endpoint.id, { headers: { 'X-Team': 'ops' } }),
    ]);
    const credentials = await stored(org.organizationId, endpoint.id);
    assert.equal(credentials.secret, rotated.secret, 'the rotation survived the header change');
    assert.deepEqual(credentials.headers, { 'X-Team': 'ops' }, 'the header change survived the rotation');
  });
});
