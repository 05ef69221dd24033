import assert from 'node:assert/strict';
import { apikey, member, organization, session, user } from '@switchboard/database';
import { count, eq } from 'drizzle-orm';
import {
  addTestMember,
  apiFetch,
  createTestOrganization,
  signIn,
  startTestApi,
  type TestApi,
} from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

async function rows(api: TestApi, table: typeof session | typeof user | typeof organization | typeof apikey) {
  const [row] = await api.deps.db.select({ n: count() }).from(table);
  return row!.n;
}

describe('authentication', () => {
  let api: TestApi;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
  });
  after(() => api.close());

  describe('sessions', () => {
    it('signs in with email and password, setting an HttpOnly SameSite=Lax cookie that authenticates /api', async () => {
      const admin = await createTestOrganization();
      const response = await fetch(`${api.baseUrl}/api/auth/sign-in/email`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: api.baseUrl },
        body: JSON.stringify({ email: admin.email, password: admin.password }),
      });
      assert.equal(response.status, 200);
      const [cookie] = response.headers.getSetCookie();
      assert.match(cookie!, /^switchboard\.session_token=/);
      assert.match(cookie!, /HttpOnly/);
      assert.match(cookie!, /SameSite=Lax/);

      const me = await apiFetch(api, 'GET', '/api/me', undefined, { cookie: cookie!.split(';')[0]! });
      assert.equal(me.status, 200);
      assert.equal(me.body.user.email, admin.email);
    });

    it('answers a wrong password with 401 in the error shape and creates no session', async () => {
      const admin = await createTestOrganization();
      const before = await rows(api, session);
      const response = await apiFetch(
        api,
        'POST',
        '/api/auth/sign-in/email',
        { email: admin.email, password: 'not-the-password' },
        { origin: api.baseUrl },
      );
      assert.equal(response.status, 401);
      assert.equal(response.body.error.code, 'invalid_email_or_password');
      assert.equal(typeof response.body.error.requestId, 'string');
      assert.equal(response.headers.getSetCookie().length, 0);
      assert.equal(await rows(api, session), before);
    });

    it('ends the session on sign-out', async () => {
      const admin = await createTestOrganization();
      const out = await admin.fetch('POST', '/api/auth/sign-out', {});
      assert.equal(out.status, 200);
      assert.equal((await admin.fetch('GET', '/api/me')).status, 401);
    });

    it('refuses /api without credentials with 401', async () => {
      const response = await apiFetch(api, 'GET', '/api/me');
      assert.equal(response.status, 401);
      assert.deepEqual(Object.keys(response.body.error).sort(), ['code', 'message', 'requestId']);
      assert.equal(response.body.error.code, 'unauthenticated');
    });

    it('keeps sign-up and organisation creation closed over HTTP, writing nothing', async () => {
      const admin = await createTestOrganization();
      const [users, organizations] = [await rows(api, user), await rows(api, organization)];

      const signUp = await apiFetch(
        api,
        'POST',
        '/api/auth/sign-up/email',
        { name: 'Mallory', email: 'mallory@example.test', password: 'long-enough-password' },
        { origin: api.baseUrl },
      );
      assert.equal(signUp.status, 404);
      const create = await admin.fetch('POST', '/api/auth/organization/create', { name: 'Mine', slug: 'mine' });
      assert.equal(create.status, 403);

      assert.equal(await rows(api, user), users);
      assert.equal(await rows(api, organization), organizations);
    });

    it('uses the first membership, or the organisation the session made active', async () => {
      const first = await createTestOrganization({ name: 'First Org' });
      const second = await createTestOrganization({ name: 'Second Org' });
      await api.auth.api.addMember({
        body: { userId: first.userId, organizationId: second.organizationId, role: 'viewer' },
      });

      const before = await first.fetch('GET', '/api/me');
      assert.equal(before.body.organization.id, first.organizationId);
      assert.equal(before.body.role, 'admin');

      const setActive = await first.fetch('POST', '/api/auth/organization/set-active', {
        organizationId: second.organizationId,
      });
      assert.equal(setActive.status, 200);
      const after = await first.fetch('GET', '/api/me');
      assert.equal(after.body.organization.id, second.organizationId);
      assert.equal(after.body.role, 'viewer');
    });

    it('refuses a signed-in user who belongs to no organisation with 403', async () => {
      const email = 'loner@example.test';
      const password = 'a-long-enough-password';
      await api.auth.api.signUpEmail({ body: { name: 'Loner', email, password } });
      const cookie = await signIn(api, email, password);
      const response = await apiFetch(api, 'GET', '/api/me', undefined, { cookie });
      assert.equal(response.status, 403);
      assert.match(response.body.error.message, /not a member/);
    });
  });

  describe('membership through better-auth', () => {
    it('closes better-auth’s endpoints that invite, accept, change roles or remove members (404, nothing written)', async () => {
      const admin = await createTestOrganization();
      const agent = await addTestMember(admin.organizationId, { role: 'agent' });
      const [agentMembership] = await api.deps.db
        .select({ id: member.id })
        .from(member)
        .where(eq(member.userId, agent.userId));
      const attempts: [string, Record<string, unknown>][] = [
        ['invite-member', { email: 'mallory@example.test', role: 'admin', organizationId: admin.organizationId }],
        ['update-member-role', { memberId: agentMembership!.id, role: 'admin', organizationId: admin.organizationId }],
        ['remove-member', { memberIdOrEmail: agent.email, organizationId: admin.organizationId }],
        ['accept-invitation', { invitationId: 'anything' }],
        ['cancel-invitation', { invitationId: 'anything' }],
        ['leave', { organizationId: admin.organizationId }],
      ];
      for (const [path, body] of attempts) {
        const response = await admin.fetch('POST', `/api/auth/organization/${path}`, body);
        assert.equal(response.status, 404, path);
      }
      assert.equal((await admin.fetch('GET', '/api/auth/organization/list-invitations')).status, 404);
      const roles = await api.deps.db
        .select({ userId: member.userId, role: member.role })
        .from(member)
        .where(eq(member.organizationId, admin.organizationId));
      assert.deepEqual(
        roles.map((r) => [r.userId, r.role]).sort(),
        [
          [admin.userId, 'admin'],
          [agent.userId, 'agent'],
        ].sort(),
      );
    });
  });

  describe('CSRF protection for cookie-authenticated writes', () => {
    it('refuses a write without Origin, or from another origin, writing nothing', async () => {
      const admin = await createTestOrganization();
      const before = await rows(api, apikey);
      const noOrigin = await apiFetch(api, 'POST', '/api/api-keys', { name: 'ci' }, { cookie: admin.cookie });
      assert.equal(noOrigin.status, 403);
      const foreign = await apiFetch(
        api,
        'POST',
        '/api/api-keys',
        { name: 'ci' },
        { cookie: admin.cookie, origin: 'https://evil.example' },
      );
      assert.equal(foreign.status, 403);
      assert.match(foreign.body.error.message, /must come from/);
      assert.equal(await rows(api, apikey), before);
    });

    it('accepts the same write from the app origin', async () => {
      const admin = await createTestOrganization();
      const response = await admin.fetch('POST', '/api/api-keys', { name: 'ci' });
      assert.equal(response.status, 201);
    });
  });

  describe('API keys', () => {
    it('authenticate with Authorization: Bearer and with x-api-key, in the key’s organisation', async () => {
      const agent = await createTestOrganization({ role: 'agent' });
      const bearer = await apiFetch(api, 'GET', '/api/me', undefined, { authorization: `Bearer ${agent.apiKey}` });
      assert.equal(bearer.status, 200);
      assert.equal(bearer.body.organization.id, agent.organizationId);
      assert.equal(bearer.body.role, 'agent');
      const header = await apiFetch(api, 'GET', '/api/me', undefined, { 'x-api-key': agent.apiKey });
      assert.equal(header.status, 200);
    });

    it('refuse unknown, malformed and non-Bearer credentials with 401', async () => {
      const admin = await createTestOrganization();
      const unknownKey = `sb_${'A'.repeat(43)}`;
      const attempts: Record<string, string>[] = [
        { authorization: `Bearer ${unknownKey}` },
        { 'x-api-key': 'sb_short' },
        { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
        // A bad key is not rescued by a good cookie: the caller said who they are.
        { authorization: `Bearer ${unknownKey}`, cookie: admin.cookie },
      ];
      for (const headers of attempts) {
        const response = await apiFetch(api, 'GET', '/api/me', undefined, headers);
        assert.equal(response.status, 401, JSON.stringify(Object.keys(headers)));
      }
    });

    it('act with the current role of the member who created them', async () => {
      const admin = await createTestOrganization();
      assert.equal((await admin.fetch('GET', '/api/api-keys', undefined, { as: 'apiKey' })).status, 200);
      await api.deps.db.update(member).set({ role: 'viewer' }).where(eq(member.userId, admin.userId));
      const demoted = await admin.fetch('GET', '/api/api-keys', undefined, { as: 'apiKey' });
      assert.equal(demoted.status, 403);
      await api.deps.db.delete(member).where(eq(member.userId, admin.userId));
      assert.equal((await admin.fetch('GET', '/api/me', undefined, { as: 'apiKey' })).status, 401);
    });

    it('act as the member they were issued to, not as whoever created the organisation', async () => {
      const admin = await createTestOrganization();
      const agent = await addTestMember(admin.organizationId, { role: 'agent' });
      const me = await agent.fetch('GET', '/api/me', undefined, { as: 'apiKey' });
      assert.equal(me.body.user.id, agent.userId);
      assert.equal(me.body.role, 'agent');
    });
  });
});
