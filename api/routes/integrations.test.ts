import assert from 'node:assert/strict';
import { integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { writeCounts } from '../../domain/test-fixtures.ts';
import {
  type ApiResponse,
  addTestMember,
  createTestOrganization,
  startTestApi,
  type TestApi,
  type TestUser,
} from '../../test/support/api.ts';
import { testDatabase } from '../../test/support/database.ts';
import { withProbes } from '../../test/support/probe-integrations.ts';

const slackToken = 'xoxb-111111111111-222222222222-SECRETsecretSECRET';
const signingSecret = 'slack-signing-secret-0123456789abcdef';

/** Fails if a secret appears anywhere in a response, headers included. */
function assertNoSecrets(response: ApiResponse, ...secrets: string[]) {
  const text = JSON.stringify(response.body) + JSON.stringify([...response.headers]);
  for (const secret of secrets) assert.ok(!text.includes(secret), `secret leaked in ${text}`);
  assert.ok(!text.includes('"credentials"'), 'responses carry no credentials field');
}

describe('integrations API', () => {
  let api: TestApi;
  let admin: TestUser;

  before(async () => {
    // The probes stand for integrations the product does not ship; they plug in through the module list.
    api = await startTestApi({ integrations: withProbes });
  });
  after(() => api.close());
  beforeEach(async () => {
    admin = await createTestOrganization({ role: 'admin' });
  });

  const createSlack = () =>
    admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe',
      name: 'Support Slack',
      config: { defaultChannel: 'C0123' },
      credentials: { botToken: slackToken, signingSecret },
    });

  it('creates, reads, lists, updates and deletes, never returning credentials', async () => {
    const created = await createSlack();
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assertNoSecrets(created, slackToken, signingSecret);
    assert.equal(created.body.credentialsHint, `xoxb…${slackToken.slice(-4)}`);
    assert.deepEqual(created.body.health, {
      status: 'unknown',
      rateLimitedLinks: 0,
      lastSuccessAt: null,
      lastErrorAt: null,
      lastError: null,
      disabledReason: null,
    });
    const id = created.body.id;

    const got = await admin.fetch('GET', `/api/integrations/${id}`);
    assert.equal(got.status, 200);
    assertNoSecrets(got, slackToken, signingSecret);
    const list = await admin.fetch('GET', '/api/integrations');
    assert.deepEqual(
      list.body.data.map((i: { id: string }) => i.id),
      [id],
    );
    assertNoSecrets(list, slackToken, signingSecret);

    const newToken = 'xoxb-333333333333-444444444444-NEWSECRETnewsecret';
    const updated = await admin.fetch('PATCH', `/api/integrations/${id}`, {
      name: 'Slack',
      isActive: false,
      config: { defaultChannel: 'C0999' },
      credentials: { botToken: newToken },
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assertNoSecrets(updated, newToken, slackToken);
    assert.equal(updated.body.name, 'Slack');
    assert.equal(updated.body.health.status, 'disabled');
    assert.deepEqual(updated.body.config, { defaultChannel: 'C0999' });

    const deleted = await admin.fetch('DELETE', `/api/integrations/${id}`);
    assert.equal(deleted.status, 204);
    assert.equal((await admin.fetch('GET', `/api/integrations/${id}`)).status, 404);
  });

  it('never builds the credentials hint, which viewers can read, from a refresh token or a signing secret', async () => {
    const accessToken = 'lin_oauth_access_0123456789abcdef';
    const refreshToken = `rfr_${'r'.repeat(80)}_END1`;
    const webhookSecret = `whs_${'w'.repeat(60)}_END2`;
    const signing = `sgn_${'s'.repeat(60)}_END3`;
    const hidesSecrets = (hint: string) => {
      for (const secret of [refreshToken, webhookSecret, signing])
        assert.ok(!hint.includes(secret.slice(0, 4)) && !hint.includes(secret.slice(-4)), `${hint} shows ${secret}`);
    };

    const linear = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'linear',
      name: 'Linear',
      config: {},
      credentials: { accessToken, refreshToken, webhookSecret },
    });
    assert.equal(linear.status, 201, JSON.stringify(linear.body));
    assert.equal(linear.body.credentialsHint, 'lin_…cdef');
    const viewer = await addTestMember(admin.organizationId, { role: 'viewer' });
    const seen = await viewer.fetch('GET', '/api/integrations');
    assert.equal(seen.status, 200);
    for (const integration of seen.body.data) hidesSecrets(integration.credentialsHint);

    const rotated = await admin.fetch('PATCH', `/api/integrations/${linear.body.id}`, {
      credentials: { accessToken: 'short-token', refreshToken, webhookSecret },
    });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    assert.equal(rotated.body.credentialsHint, '••••');

    const slack = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe',
      name: 'Slack',
      config: {},
      credentials: { botToken: 'xoxb-short', signingSecret: signing },
    });
    assert.equal(slack.status, 201, JSON.stringify(slack.body));
    assert.equal(slack.body.credentialsHint, '••••');
  });

  it('stores only ciphertext: no plaintext secret in the row', async () => {
    const created = await createSlack();
    const { pool } = testDatabase();
    const { rows } = await pool.query('select row_to_json(i)::text as row from integration_configs i where id = $1', [
      created.body.id,
    ]);
    assert.ok(rows[0].row.includes('"ciphertext"'));
    assert.ok(!rows[0].row.includes(slackToken));
    assert.ok(!rows[0].row.includes(signingSecret));
    assert.ok(!rows[0].row.includes('SECRETsecret'));
    const { rows: audit } = await pool.query('select metadata::text from audit_log where entity_id = $1', [
      created.body.id,
    ]);
    assert.ok(audit.length > 0 && audit.every((a) => !a.metadata.includes(slackToken)));
  });

  it('validates config by integration type, naming the field, and writes nothing', async () => {
    const before = await writeCounts();
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        {
          integrationType: 'webhook',
          name: 'w',
          // Plain http is the deployment's call (SWITCHBOARD_WEBHOOK_ALLOW_HTTP; see the webhooks tests); ftp never is.
          config: { url: 'ftp://example.com/hook', eventTypes: ['ticket.created'] },
        },
        'config.url',
      ],
      [
        { integrationType: 'webhook', name: 'w', config: { url: 'https://example.com/hook', eventTypes: [] } },
        'config.eventTypes',
      ],
      [
        { integrationType: 'webhook', name: 'w', config: { url: 'https://example.com/hook', eventTypes: ['nope'] } },
        'config.eventTypes.0',
      ],
      [{ integrationType: 'probe-mail', name: 'e', config: { fromAddress: 'not an email' } }, 'config.fromAddress'],
      [{ integrationType: 'probe-mail', name: 'e', config: {} }, 'config.fromAddress'],
      [{ integrationType: 'linear', name: 'l', config: { teamId: 7 } }, 'config.teamId'],
      [{ integrationType: 'jira', name: 'j', config: {} }, 'integrationType'],
      [{ integrationType: 'probe', name: '', config: {} }, 'name'],
      [{ integrationType: 'probe', name: 's', config: {}, credentials: 'token' }, 'credentials'],
    ];
    for (const [body, field] of cases) {
      const response = await admin.fetch('POST', '/api/integrations', body);
      assert.equal(response.status, 422, `${JSON.stringify(body)} → ${JSON.stringify(response.body)}`);
      assert.ok(
        response.body.error.details.some((d: { path: string }) => d.path === `body.${field}`),
        `${field} not named in ${JSON.stringify(response.body.error)}`,
      );
    }
    const unknown = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe',
      name: 's',
      config: { channel: 'C1' },
    });
    assert.equal(unknown.status, 422);
    assert.match(JSON.stringify(unknown.body.error), /channel/);
    assert.deepEqual(await writeCounts(), before);
  });

  it('validates a config change against the stored type', async () => {
    const created = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe-mail',
      name: 'Mail',
      config: { fromAddress: 'support@acme.test' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const before = await writeCounts();
    const response = await admin.fetch('PATCH', `/api/integrations/${created.body.id}`, {
      config: { fromAddress: 'not an address' },
    });
    assert.equal(response.status, 422);
    assert.ok(response.body.error.details.some((d: { path: string }) => d.path === 'body.config.fromAddress'));
    assert.deepEqual(await writeCounts(), before);
  });

  it('changes the config as a JSON Merge Patch: null removes a key, objects merge, arrays replace', async () => {
    const mail = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe-mail',
      name: 'Mail',
      config: { fromAddress: 'support@acme.test', fromName: 'Acme', replyTo: 'help@acme.test' },
    });
    assert.equal(mail.status, 201, JSON.stringify(mail.body));
    const renamed = await admin.fetch('PATCH', `/api/integrations/${mail.body.id}`, {
      config: { fromName: 'Acme Help' },
    });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    assert.deepEqual(renamed.body.config, {
      fromAddress: 'support@acme.test',
      fromName: 'Acme Help',
      replyTo: 'help@acme.test',
    });
    const removed = await admin.fetch('PATCH', `/api/integrations/${mail.body.id}`, { config: { replyTo: null } });
    assert.deepEqual(removed.body.config, { fromAddress: 'support@acme.test', fromName: 'Acme Help' });

    const linear = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'linear',
      name: 'Linear',
      config: { statusToLinear: { open: 'state-open', solved: 'state-done' }, labelIds: ['l1', 'l2'] },
      credentials: { apiKey: 'lin_api_merge_patch_test' },
    });
    assert.equal(linear.status, 201, JSON.stringify(linear.body));
    const patched = await admin.fetch('PATCH', `/api/integrations/${linear.body.id}`, {
      config: { statusToLinear: { solved: null, closed: 'state-closed' }, labelIds: ['l3'] },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.config.statusToLinear, { open: 'state-open', closed: 'state-closed' });
    assert.deepEqual(patched.body.config.labelIds, ['l3']);
    assert.equal(patched.body.config.syncPriority, true);
  });

  it('validates the merged config, naming the field, and changes nothing when it is invalid', async () => {
    const mail = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'probe-mail',
      name: 'Mail',
      config: { fromAddress: 'support@acme.test', fromName: 'Acme' },
    });
    const before = await writeCounts();
    for (const config of [{ fromAddress: null }, { replyTo: 'nope' }, { unknownKey: 1 }]) {
      const response = await admin.fetch('PATCH', `/api/integrations/${mail.body.id}`, { config });
      assert.equal(response.status, 422, JSON.stringify(config));
      assert.match(JSON.stringify(response.body.error.details), /body\.config/);
    }
    assert.deepEqual(await writeCounts(), before);
    const got = await admin.fetch('GET', `/api/integrations/${mail.body.id}`);
    assert.deepEqual(got.body.config, { fromAddress: 'support@acme.test', fromName: 'Acme' });
  });

  it('sends changes of a webhook endpoint to the webhooks API (409), writing nothing', async () => {
    const created = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'webhook',
      name: 'Hook',
      config: { url: 'https://example.com/hook', eventTypes: ['ticket.created', 'comment.created'] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const before = await writeCounts();
    for (const body of [{ isActive: false }, { credentials: { secret: 'x' } }, { config: created.body.config }]) {
      const response = await admin.fetch('PATCH', `/api/integrations/${created.body.id}`, body);
      assert.equal(response.status, 409, JSON.stringify(body));
      assert.match(response.body.error.message, new RegExp(`/api/webhooks/endpoints/${created.body.id}`));
    }
    assert.deepEqual(await writeCounts(), before);
  });

  it('lets agents and viewers read but not write (403), writing nothing', async () => {
    const created = await createSlack();
    const before = await writeCounts();
    for (const role of ['agent', 'viewer'] as const) {
      const member = await addTestMember(admin.organizationId, { role });
      const read = await member.fetch('GET', `/api/integrations/${created.body.id}`);
      assert.equal(read.status, 200);
      assertNoSecrets(read, slackToken);
      for (const [method, path, body] of [
        ['POST', '/api/integrations', { integrationType: 'probe', name: 's', config: {} }],
        ['PATCH', `/api/integrations/${created.body.id}`, { name: 'renamed' }],
        ['DELETE', `/api/integrations/${created.body.id}`, undefined],
      ] as const) {
        const response = await member.fetch(method, path, body);
        assert.equal(response.status, 403, `${role} ${method} ${path}`);
      }
    }
    assert.deepEqual(await writeCounts(), before);
  });

  it("answers 404 for another organisation's integration, writing nothing", async () => {
    const created = await createSlack();
    const stranger = await createTestOrganization({ role: 'admin' });
    const before = await writeCounts();
    for (const [method, body] of [
      ['GET', undefined],
      ['PATCH', { name: 'mine' }],
      ['DELETE', undefined],
    ] as const) {
      const response = await stranger.fetch(method, `/api/integrations/${created.body.id}`, body);
      assert.equal(response.status, 404, method);
    }
    assert.deepEqual((await stranger.fetch('GET', '/api/integrations')).body.data, []);
    assert.deepEqual(await writeCounts(), before);
    const { db } = testDatabase();
    const [row] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, created.body.id));
    assert.equal(row!.name, 'Support Slack');
  });
});
