import assert from 'node:assert/strict';
import { apikey, auditLog } from '@switchboard/database';
import { count, eq } from 'drizzle-orm';
import { apiFetch, createTestOrganization, startTestApi, type TestApi } from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

describe('/api/api-keys', () => {
  let api: TestApi;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
  });
  after(() => api.close());

  /** The keys and whether they are revoked (lastUsedAt moves whenever a key is used, so it is left out). */
  async function keyRows() {
    return api.deps.db.select({ id: apikey.id, revokedAt: apikey.revokedAt }).from(apikey).orderBy(apikey.id);
  }

  it('creates a key that is shown once, stored only as a hash, listed by prefix and usable at once', async () => {
    const admin = await createTestOrganization();
    const created = await admin.fetch('POST', '/api/api-keys', { name: 'CI pipeline' });
    assert.equal(created.status, 201);
    assert.match(created.body.key, /^sb_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.body.name, 'CI pipeline');
    assert.ok(created.body.key.startsWith(created.body.prefix));

    const [stored] = await api.deps.db.select().from(apikey).where(eq(apikey.id, created.body.id));
    assert.equal(stored!.organizationId, admin.organizationId);
    assert.ok(!JSON.stringify(stored).includes(created.body.key.slice(3)), 'the key itself is not stored');

    const me = await apiFetch(api, 'GET', '/api/me', undefined, { 'x-api-key': created.body.key });
    assert.equal(me.status, 200);
    assert.equal(me.body.organization.id, admin.organizationId);

    const list = await admin.fetch('GET', '/api/api-keys');
    assert.equal(list.status, 200);
    const listed = list.body.data.find((k: { id: string }) => k.id === created.body.id);
    assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'id', 'lastUsedAt', 'name', 'prefix']);
    assert.equal(listed.prefix, created.body.prefix);
    assert.notEqual(listed.lastUsedAt, null, 'using the key recorded when');
    assert.ok(!JSON.stringify(list.body).includes(created.body.key));
  });

  it('records creation and revocation in the audit log', async () => {
    const admin = await createTestOrganization();
    const created = await admin.fetch('POST', '/api/api-keys', { name: 'audited' });
    await admin.fetch('DELETE', `/api/api-keys/${created.body.id}`);
    const entries = await api.deps.db
      .select({ action: auditLog.action, actorId: auditLog.actorId })
      .from(auditLog)
      .where(eq(auditLog.entityId, created.body.id));
    assert.deepEqual(entries.map((e) => e.action).sort(), ['api_key.created', 'api_key.revoked']);
    assert.ok(entries.every((e) => e.actorId === admin.userId));
  });

  it('revokes a key: it stops working at once and leaves the list', async () => {
    const admin = await createTestOrganization();
    const created = await admin.fetch('POST', '/api/api-keys', { name: 'short-lived' });
    const revoked = await admin.fetch('DELETE', `/api/api-keys/${created.body.id}`);
    assert.equal(revoked.status, 204);
    const use = await apiFetch(api, 'GET', '/api/me', undefined, { authorization: `Bearer ${created.body.key}` });
    assert.equal(use.status, 401);
    const list = await admin.fetch('GET', '/api/api-keys');
    assert.ok(!list.body.data.some((k: { id: string }) => k.id === created.body.id));
    assert.equal((await admin.fetch('DELETE', `/api/api-keys/${created.body.id}`)).status, 404);
  });

  it("treats another organisation's key as missing (404) and leaves it working", async () => {
    const ours = await createTestOrganization();
    const theirs = await createTestOrganization();
    const response = await ours.fetch('DELETE', `/api/api-keys/${theirs.apiKeyId}`);
    assert.equal(response.status, 404);
    assert.equal(response.body.error.code, 'not_found');
    assert.equal((await theirs.fetch('GET', '/api/me', undefined, { as: 'apiKey' })).status, 200);
    const list = await ours.fetch('GET', '/api/api-keys');
    assert.ok(!list.body.data.some((k: { id: string }) => k.id === theirs.apiKeyId));
  });

  for (const role of ['viewer', 'agent'] as const) {
    it(`refuses a ${role} (403) and writes nothing`, async () => {
      const caller = await createTestOrganization({ role });
      const before = await keyRows();
      const create = await caller.fetch('POST', '/api/api-keys', { name: 'nope' });
      assert.equal(create.status, 403);
      assert.equal(create.body.error.code, 'forbidden');
      assert.equal((await caller.fetch('GET', '/api/api-keys')).status, 403);
      assert.equal((await caller.fetch('DELETE', `/api/api-keys/${caller.apiKeyId}`)).status, 403);
      assert.deepEqual(await keyRows(), before);
    });
  }

  it('does not let an API key mint or revoke keys, even an admin’s', async () => {
    const admin = await createTestOrganization();
    const before = await keyRows();
    const create = await admin.fetch('POST', '/api/api-keys', { name: 'self-replicating' }, { as: 'apiKey' });
    assert.equal(create.status, 403);
    const revoke = await admin.fetch('DELETE', `/api/api-keys/${admin.apiKeyId}`, undefined, { as: 'apiKey' });
    assert.equal(revoke.status, 403);
    assert.deepEqual(await keyRows(), before);
  });

  describe('bad input changes nothing', () => {
    let admin: Awaited<ReturnType<typeof createTestOrganization>>;
    let before: number;
    beforeEach(async () => {
      admin = await createTestOrganization();
      const [row] = await api.deps.db.select({ n: count() }).from(apikey);
      before = row!.n;
    });
    afterEach(async () => {
      const [row] = await api.deps.db.select({ n: count() }).from(apikey);
      assert.equal(row!.n, before, 'no key was written');
    });

    it('answers an unknown field with 422 naming it', async () => {
      const response = await admin.fetch('POST', '/api/api-keys', { name: 'ci', role: 'admin' });
      assert.equal(response.status, 422);
      assert.equal(response.body.error.code, 'validation_failed');
      assert.deepEqual(
        response.body.error.details.map((d: { path: string }) => d.path),
        ['body.role'],
      );
      assert.match(response.body.error.message, /role/);
    });

    it('answers a missing or blank name with 422 naming body.name', async () => {
      for (const body of [{}, { name: '   ' }, { name: 42 }]) {
        const response = await admin.fetch('POST', '/api/api-keys', body);
        assert.equal(response.status, 422);
        assert.equal(response.body.error.details[0].path, 'body.name');
      }
    });

    it('answers malformed JSON with 400', async () => {
      const response = await admin.fetch('POST', '/api/api-keys', undefined, { raw: '{"name": "ci"' });
      assert.equal(response.status, 400);
      assert.equal(response.body.error.code, 'malformed_json');
    });

    it('answers a form-encoded body with 415', async () => {
      const response = await admin.fetch('POST', '/api/api-keys', undefined, {
        raw: 'name=ci',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(response.status, 415);
      assert.equal(response.body.error.code, 'unsupported_media_type');
    });
  });
});
