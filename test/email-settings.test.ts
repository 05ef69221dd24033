// Setting a mailbox up: the live connection test answers in plain words (wrong password, TLS mismatch, host not
// found, an address the deployment does not allow), a password changed alone keeps the others, and only admins
// configure while agents and viewers cannot.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { integrationConfigs } from '@switchboard/database';
import { eq } from 'drizzle-orm';
import { openCredentials } from '../common/credentials.ts';
import { emailSettings } from '../packages/integrations/email/settings.ts';
import { addTestMember, createTestOrganization, startTestApi, type TestApi, type TestUser } from './support/api.ts';
import { testDatabase } from './support/database.ts';
import { addMailUser, ensureMailServices, testMailServices } from './support/mail-services.ts';

const PASSWORD = 'mail-test-password';

describe('email settings', function () {
  this.timeout(60_000);
  const { db } = testDatabase();
  let api: TestApi;
  let admin: TestUser;
  let address: string;

  before(async () => {
    await ensureMailServices();
    api = await startTestApi();
    admin = await createTestOrganization({ role: 'admin' });
    address = `setup-${randomUUID().slice(0, 8)}@support.test`;
    await addMailUser(address, PASSWORD);
  });
  after(async () => api?.close());

  const imap = (overrides: Record<string, unknown> = {}) => ({
    host: testMailServices.imap.host,
    port: testMailServices.imap.port,
    security: 'none',
    username: address,
    ...overrides,
  });

  it('tests IMAP and SMTP before saving, and says what is wrong in plain words', async () => {
    const ok = await admin.fetch('POST', '/api/email/connection-test', {
      imap: imap(),
      imapPassword: PASSWORD,
      smtp: { host: testMailServices.smtp.host, port: testMailServices.smtp.port, security: 'none' },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { imap: { ok: true, error: null, idle: true }, smtp: { ok: true, error: null } });

    const wrong = await admin.fetch('POST', '/api/email/connection-test', { imap: imap(), imapPassword: 'nope' });
    assert.match(wrong.body.imap.error, /wrong user name or password/);
    const tls = await admin.fetch('POST', '/api/email/connection-test', {
      imap: imap({ security: 'tls' }),
      imapPassword: PASSWORD,
    });
    assert.equal(tls.body.imap.ok, false);
    assert.match(tls.body.imap.error, /TLS|no answer in time/);
    const nowhere = await admin.fetch('POST', '/api/email/connection-test', {
      imap: imap({ host: 'mail.does-not-exist.invalid' }),
      imapPassword: PASSWORD,
    });
    assert.match(nowhere.body.imap.error, /host not found/);
  });

  it('refuses a mail server on an address the deployment does not allow (SSRF), and plain text where it is not allowed', async () => {
    const strict = await startTestApi({
      config: (config) => emailSettings.with(config, { allowCidrs: [], allowInsecure: false }),
    });
    try {
      const strictAdmin = await createTestOrganization({ role: 'admin', api: strict });
      const loopback = await strictAdmin.fetch('POST', '/api/email/connection-test', {
        imap: imap({ security: 'tls' }),
        imapPassword: PASSWORD,
      });
      assert.equal(loopback.body.imap.ok, false);
      assert.match(loopback.body.imap.error, /refused: .*loopback/);
      const plain = await strictAdmin.fetch('POST', '/api/email/connection-test', { imap: imap(), imapPassword: 'x' });
      assert.match(plain.body.imap.error, /without TLS is not allowed/);
      const saved = await strictAdmin.fetch('POST', '/api/integrations', {
        integrationType: 'email',
        name: 'Plain',
        config: { address, imap: imap() },
      });
      assert.equal(saved.status, 422);
      assert.equal(saved.body.error.details[0].path, 'body.config.imap.security');
    } finally {
      await strict.close();
    }
  });

  it('keeps the other secrets when one password changes, and lets only admins configure', async () => {
    const created = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'email',
      name: 'Support',
      config: { address, imap: imap() },
      credentials: { imapPassword: PASSWORD, dkimPrivateKey: 'dkim-key-material' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.id;
    const patched = await admin.fetch('PATCH', `/api/integrations/${id}`, {
      credentials: { smtpPassword: 'smtp-secret' },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    const [row] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, id));
    const stored = openCredentials(api.deps.config.credentialKeys, row!.organizationId, id, row!.credentials);
    assert.deepEqual(stored, {
      imapPassword: PASSWORD,
      dkimPrivateKey: 'dkim-key-material',
      smtpPassword: 'smtp-secret',
    });
    await admin.fetch('PATCH', `/api/integrations/${id}`, { credentials: { dkimPrivateKey: null } });
    const [after] = await db.select().from(integrationConfigs).where(eq(integrationConfigs.id, id));
    assert.deepEqual(openCredentials(api.deps.config.credentialKeys, after!.organizationId, id, after!.credentials), {
      imapPassword: PASSWORD,
      smtpPassword: 'smtp-secret',
    });

    // A saved password is not sent to another server: moving the host needs the password again.
    const moved = await admin.fetch('PATCH', `/api/integrations/${id}`, {
      config: { imap: { host: 'imap.attacker.test' } },
    });
    assert.equal(moved.status, 422, JSON.stringify(moved.body));
    assert.equal(moved.body.error.details[0].path, 'body.credentials.imapPassword');
    const probe = await admin.fetch('POST', '/api/email/connection-test', {
      integrationId: id,
      imap: imap({ username: 'someone-else@support.test' }),
    });
    assert.match(probe.body.imap.error, /wrong user name or password/, 'the saved password was not tried');
    const saved = await admin.fetch('POST', '/api/email/connection-test', { integrationId: id, imap: imap() });
    assert.equal(saved.body.imap.ok, true, 'the saved password is used for the server it was saved for');

    const agent = await addTestMember(admin.organizationId, { role: 'agent' });
    assert.equal((await agent.fetch('POST', `/api/email/integrations/${id}/inbound-secret`, {})).status, 403);
    assert.equal((await agent.fetch('POST', '/api/email/connection-test', { imap: imap() })).status, 403);
    const other = await createTestOrganization({ role: 'admin' });
    assert.equal((await other.fetch('POST', `/api/email/integrations/${id}/inbound-secret`, {})).status, 404);
    const bad = await admin.fetch('POST', '/api/integrations', {
      integrationType: 'email',
      name: 'Bad',
      config: { address: 'not-an-address' },
    });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.error.details.some((d: { path: string }) => d.path === 'body.config.address'));
  });
});
