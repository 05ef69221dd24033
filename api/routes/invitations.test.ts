import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { auditLog, invitation, member, user } from '@switchboard/database';
import { and, count, eq } from 'drizzle-orm';
import {
  type ApiResponse,
  apiFetch,
  createTestOrganization,
  signIn,
  startTestApi,
  type TestApi,
  type TestUser,
} from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

describe('invitations: how people join an organisation', () => {
  let api: TestApi;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
  });
  after(() => api.close());

  const password = 'a-long-enough-password';
  let n = 0;
  const newEmail = () => `invitee-${++n}-${randomBytes(3).toString('hex')}@example.test`;

  /** The public routes, as the invitee's browser calls them: no credentials unless given. */
  const publicPost = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    apiFetch(api, 'POST', path, body, { origin: api.baseUrl, ...headers });

  async function invite(admin: TestUser, body: Record<string, unknown>): Promise<ApiResponse> {
    const response = await admin.fetch('POST', '/api/invitations', body);
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return response;
  }

  async function usersCount(): Promise<number> {
    const [row] = await api.deps.db.select({ n: count() }).from(user);
    return row!.n;
  }

  async function auditActions(entityId: string): Promise<string[]> {
    const rows = await api.deps.db
      .select({ action: auditLog.action })
      .from(auditLog)
      .where(eq(auditLog.entityId, entityId))
      .orderBy(auditLog.id);
    return rows.map((r) => r.action);
  }

  const cookieOf = (response: ApiResponse) =>
    response.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');

  describe('an admin invites, the invitee sets a password and joins', () => {
    it('shows the token and link once, stores only its hash, and lists the invitation without it', async () => {
      const admin = await createTestOrganization({ name: 'Initech Support', userName: 'Ida Admin' });
      const email = newEmail();
      const created = await invite(admin, { email, role: 'agent' });
      const { token, url, id } = created.body;
      assert.match(token, /^sbi_[A-Za-z0-9_-]{43}$/);
      assert.equal(url, `${api.baseUrl}/join#${token}`);
      assert.equal(created.body.email, email);
      assert.equal(created.body.role, 'agent');
      assert.equal(created.body.status, 'pending');
      assert.deepEqual(created.body.invitedBy, { userId: admin.userId, name: 'Ida Admin' });
      const days = (Date.parse(created.body.expiresAt) - Date.now()) / 86_400_000;
      assert.ok(days > 6.9 && days <= 7, `expires in ${days} days`);

      const [row] = await api.deps.db.select().from(invitation).where(eq(invitation.id, id));
      assert.equal(row!.tokenHash, createHash('sha256').update(token).digest('hex'));
      assert.ok(!JSON.stringify(row).includes(token), 'the row holds no usable token');

      const list = await admin.fetch('GET', '/api/invitations');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.data.map((i: { id: string; email: string; status: string }) => [i.id, i.email, i.status]),
        [[id, email, 'pending']],
      );
      assert.ok(!JSON.stringify(list.body).includes(token), 'the list never shows the token');
      assert.deepEqual(await auditActions(id), ['invitation.created']);
    });

    it('lets the invitee preview the invitation, then create their account with it, signed in as a member', async () => {
      const admin = await createTestOrganization({ name: 'Umbrella Desk', userName: 'Uma Admin' });
      const email = newEmail();
      const { token, id } = (await invite(admin, { email, role: 'agent' })).body;

      const preview = await publicPost('/api/invitations/preview', { token });
      assert.equal(preview.status, 200, JSON.stringify(preview.body));
      assert.deepEqual(
        { ...preview.body, expiresAt: undefined },
        {
          organization: { name: 'Umbrella Desk' },
          email,
          role: 'agent',
          invitedBy: 'Uma Admin',
          accountExists: false,
          expiresAt: undefined,
        },
      );

      const accepted = await publicPost('/api/invitations/accept', { token, name: 'Nia Newcomer', password });
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      assert.equal(accepted.body.organizationId, admin.organizationId);
      assert.equal(accepted.body.role, 'agent');
      assert.equal(accepted.body.newAccount, true);

      // The answer's cookie is a session in the organisation, with the invited role.
      const me = await apiFetch(api, 'GET', '/api/me', undefined, { cookie: cookieOf(accepted) });
      assert.equal(me.status, 200, JSON.stringify(me.body));
      assert.equal(me.body.user.email, email);
      assert.equal(me.body.user.name, 'Nia Newcomer');
      assert.equal(me.body.organization.id, admin.organizationId);
      assert.equal(me.body.role, 'agent');
      // And the password signs in like any other account's.
      const cookie = await signIn(api, email, password);
      assert.equal((await apiFetch(api, 'GET', '/api/me', undefined, { cookie })).status, 200);

      const members = await admin.fetch('GET', '/api/members');
      assert.ok(
        members.body.data.some((m: { email: string; role: string }) => m.email === email && m.role === 'agent'),
      );
      assert.deepEqual((await admin.fetch('GET', '/api/invitations')).body.data, []);
      assert.deepEqual(await auditActions(id), ['invitation.created', 'invitation.accepted']);
    });

    it('works once: the same link again is a 410 and creates nothing', async () => {
      const admin = await createTestOrganization();
      const { token } = (await invite(admin, { email: newEmail(), role: 'viewer' })).body;
      assert.equal((await publicPost('/api/invitations/accept', { token, name: 'First', password })).status, 201);
      const users = await usersCount();

      const again = await publicPost('/api/invitations/accept', { token, name: 'Second', password });
      assert.equal(again.status, 410);
      assert.equal(again.body.error.code, 'invitation_used');
      assert.equal((await publicPost('/api/invitations/preview', { token })).status, 410);
      assert.equal(await usersCount(), users);
    });

    it('accepts one of two simultaneous uses of a link and refuses the other', async () => {
      const admin = await createTestOrganization();
      const { token } = (await invite(admin, { email: newEmail(), role: 'agent' })).body;
      const answers = await Promise.all(
        ['One', 'Two'].map((name) => publicPost('/api/invitations/accept', { token, name, password })),
      );
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 410], JSON.stringify(answers.map((a) => a.body)));
      const [row] = await api.deps.db
        .select({ n: count() })
        .from(member)
        .where(eq(member.organizationId, admin.organizationId));
      assert.equal(row!.n, 2);
    });

    it('makes one account when two organisations invite the same new address and both links are used at once', async () => {
      const email = newEmail();
      const tokens = await Promise.all(
        [await createTestOrganization(), await createTestOrganization()].map(
          async (admin) => (await invite(admin, { email, role: 'agent' })).body.token as string,
        ),
      );
      const answers = await Promise.all(
        tokens.map((token, i) => publicPost('/api/invitations/accept', { token, name: `Twin ${i}`, password })),
      );
      const statuses = answers.map((a) => a.status).sort();
      // Without the guard the loser hit the unique address and answered 500; whichever wins, nobody sees a 500.
      assert.ok(!statuses.includes(500), JSON.stringify(answers.map((a) => a.body)));
      assert.ok(statuses.includes(201));
      for (const a of answers.filter((x) => x.status === 409)) assert.equal(a.body.error.code, 'account_exists');
    });

    it('takes an email in any case and keeps it lower-case', async () => {
      const admin = await createTestOrganization();
      const email = newEmail();
      const created = await invite(admin, { email: email.toUpperCase(), role: 'agent' });
      assert.equal(created.body.email, email);
      const duplicate = await admin.fetch('POST', '/api/invitations', { email, role: 'viewer' });
      assert.equal(duplicate.status, 409);
      assert.equal(duplicate.body.error.code, 'already_invited');
    });
  });

  describe('an invitee who already has an account signs in and joins', () => {
    it('asks them to sign in, refuses a password or the wrong account, then joins the signed-in account', async () => {
      const admin = await createTestOrganization({ name: 'Joining Org' });
      const elsewhere = await createTestOrganization({ name: 'Home Org', role: 'agent' });
      const { token } = (await invite(admin, { email: elsewhere.email, role: 'viewer' })).body;

      const preview = await publicPost('/api/invitations/preview', { token });
      assert.equal(preview.body.accountExists, true);

      const anonymous = await publicPost('/api/invitations/accept', { token });
      assert.equal(anonymous.status, 401);
      assert.match(anonymous.body.error.message, /an account with the address .* exists: sign in as it/);

      const withPassword = await publicPost('/api/invitations/accept', { token, name: 'Again', password });
      assert.equal(withPassword.status, 409);
      assert.equal(withPassword.body.error.code, 'account_exists');

      const someoneElse = await createTestOrganization();
      const wrong = await publicPost('/api/invitations/accept', { token }, { cookie: someoneElse.cookie });
      assert.equal(wrong.status, 403);
      assert.equal(wrong.body.error.code, 'wrong_account');

      const noOrigin = await apiFetch(api, 'POST', '/api/invitations/accept', { token }, { cookie: elsewhere.cookie });
      assert.equal(noOrigin.status, 403, 'a cookie-authenticated accept needs the app’s Origin');

      const accepted = await publicPost('/api/invitations/accept', { token }, { cookie: elsewhere.cookie });
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      assert.equal(accepted.body.newAccount, false);
      assert.equal(accepted.body.userId, elsewhere.userId);

      // The session now works in the organisation just joined, with the invited role; the first is untouched.
      const me = await elsewhere.fetch('GET', '/api/me');
      assert.equal(me.body.organization.name, 'Joining Org');
      assert.equal(me.body.role, 'viewer');
      const memberships = await api.deps.db
        .select({ organizationId: member.organizationId, role: member.role })
        .from(member)
        .where(eq(member.userId, elsewhere.userId));
      assert.deepEqual(
        memberships.map((m) => [m.organizationId, m.role]).sort(),
        [
          [admin.organizationId, 'viewer'],
          [elsewhere.organizationId, 'agent'],
        ].sort(),
      );
    });
  });

  describe('links that no longer work', () => {
    it('refuses an expired invitation with 410 and lists it as expired', async () => {
      const admin = await createTestOrganization();
      const { token, id } = (await invite(admin, { email: newEmail(), role: 'agent', expiresInDays: 1 })).body;
      await api.deps.db
        .update(invitation)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(invitation.id, id));

      const preview = await publicPost('/api/invitations/preview', { token });
      assert.equal(preview.status, 410);
      assert.equal(preview.body.error.code, 'invitation_expired');
      assert.match(preview.body.error.message, /expired at .*ask an admin/);
      const users = await usersCount();
      const accept = await publicPost('/api/invitations/accept', { token, name: 'Late', password });
      assert.equal(accept.status, 410);
      assert.equal(await usersCount(), users);

      const list = await admin.fetch('GET', '/api/invitations');
      assert.equal(list.body.data[0].status, 'expired');
      // An expired invitation does not block a new one for the same address.
      const again = await admin.fetch('POST', '/api/invitations', { email: list.body.data[0].email, role: 'agent' });
      assert.equal(again.status, 201, JSON.stringify(again.body));
    });

    it('lets an admin revoke an invitation: its link stops working at once, and it is audited', async () => {
      const admin = await createTestOrganization();
      const { token, id } = (await invite(admin, { email: newEmail(), role: 'admin' })).body;
      const revoked = await admin.fetch('DELETE', `/api/invitations/${id}`);
      assert.equal(revoked.status, 204);

      const accept = await publicPost('/api/invitations/accept', { token, name: 'Too late', password });
      assert.equal(accept.status, 410);
      assert.equal(accept.body.error.code, 'invitation_revoked');
      assert.deepEqual((await admin.fetch('GET', '/api/invitations')).body.data, []);
      assert.deepEqual(await auditActions(id), ['invitation.created', 'invitation.revoked']);

      const twice = await admin.fetch('DELETE', `/api/invitations/${id}`);
      assert.equal(twice.status, 409);
      assert.match(twice.body.error.message, /already revoked/);
      assert.equal((await admin.fetch('DELETE', '/api/invitations/no-such-invitation')).status, 404);
    });

    it('answers an unknown token with 404 and a malformed one with 422, creating no account', async () => {
      const users = await usersCount();
      const unknown = `sbi_${randomBytes(32).toString('base64url')}`;
      const notFound = await publicPost('/api/invitations/accept', { token: unknown, name: 'Mallory', password });
      assert.equal(notFound.status, 404);
      assert.equal((await publicPost('/api/invitations/preview', { token: unknown })).status, 404);

      const malformed = await publicPost('/api/invitations/accept', { token: 'let-me-in', name: 'Mallory', password });
      assert.equal(malformed.status, 422);
      assert.equal(malformed.body.error.details[0].path, 'body.token');
      assert.equal(await usersCount(), users);
    });
  });

  describe('bad input changes nothing', () => {
    it('names the wrong field of an invitation', async () => {
      const admin = await createTestOrganization();
      const cases: [Record<string, unknown>, string][] = [
        [{ email: 'not-an-email', role: 'agent' }, 'body.email'],
        [{ email: newEmail(), role: 'owner' }, 'body.role'],
        [{ email: newEmail() }, 'body.role'],
        [{ email: newEmail(), role: 'agent', expiresInDays: 0 }, 'body.expiresInDays'],
        [{ email: newEmail(), role: 'agent', expiresInDays: 31 }, 'body.expiresInDays'],
        [{ email: newEmail(), role: 'agent', team: 'x' }, 'body.team'],
      ];
      for (const [body, path] of cases) {
        const response = await admin.fetch('POST', '/api/invitations', body);
        assert.equal(response.status, 422, JSON.stringify(body));
        assert.deepEqual(
          response.body.error.details.map((d: { path: string }) => d.path),
          [path],
        );
      }
      assert.deepEqual((await admin.fetch('GET', '/api/invitations')).body.data, []);
    });

    it('refuses to invite a member (409 already_member)', async () => {
      const admin = await createTestOrganization();
      const response = await admin.fetch('POST', '/api/invitations', { email: admin.email, role: 'viewer' });
      assert.equal(response.status, 409);
      assert.equal(response.body.error.code, 'already_member');
    });

    it('names a short password or half an account, and keeps the invitation usable', async () => {
      const admin = await createTestOrganization();
      const { token } = (await invite(admin, { email: newEmail(), role: 'agent' })).body;
      const short = await publicPost('/api/invitations/accept', { token, name: 'Shorty', password: 'short' });
      assert.equal(short.status, 422);
      assert.equal(short.body.error.details[0].path, 'body.password');
      const noPassword = await publicPost('/api/invitations/accept', { token, name: 'Half' });
      assert.equal(noPassword.status, 422);
      assert.equal(noPassword.body.error.details[0].path, 'body.password');
      const nothing = await publicPost('/api/invitations/accept', { token });
      assert.equal(nothing.status, 422);
      assert.deepEqual(
        nothing.body.error.details.map((d: { path: string }) => d.path),
        ['body.name', 'body.password'],
      );
      assert.equal((await publicPost('/api/invitations/accept', { token, name: 'Whole', password })).status, 201);
    });

    it('lets only admins with a session invite, list and revoke', async () => {
      const admin = await createTestOrganization();
      const agent = await createTestOrganization({ role: 'agent' });
      assert.equal((await agent.fetch('POST', '/api/invitations', { email: newEmail(), role: 'agent' })).status, 403);
      assert.equal((await agent.fetch('GET', '/api/invitations')).status, 403);

      const withKey = await admin.fetch(
        'POST',
        '/api/invitations',
        { email: newEmail(), role: 'admin' },
        { as: 'apiKey' },
      );
      assert.equal(withKey.status, 403);
      assert.match(withKey.body.error.message, /not with an API key/);
      assert.equal((await admin.fetch('GET', '/api/invitations', undefined, { as: 'apiKey' })).status, 200);
      const [row] = await api.deps.db
        .select({ n: count() })
        .from(invitation)
        .where(eq(invitation.organizationId, admin.organizationId));
      assert.equal(row!.n, 0);
    });
  });

  describe('organisation boundaries', () => {
    it('an invitation of one organisation grants nothing in another', async () => {
      const ours = await createTestOrganization({ name: 'Ours' });
      const theirs = await createTestOrganization({ name: 'Theirs' });
      const email = newEmail();
      const accepted = await publicPost('/api/invitations/accept', {
        token: (await invite(ours, { email, role: 'admin' })).body.token,
        name: 'Ours Admin',
        password,
      });
      assert.equal(accepted.status, 201);
      const newcomer = cookieOf(accepted);
      const memberships = await api.deps.db
        .select({ organizationId: member.organizationId })
        .from(member)
        .innerJoin(user, eq(user.id, member.userId))
        .where(eq(user.email, email));
      assert.deepEqual(memberships, [{ organizationId: ours.organizationId }]);

      // Admin of ours, and nothing in theirs: their invitations and members are not found.
      const theirInvitation = (await invite(theirs, { email: newEmail(), role: 'agent' })).body;
      const headers = { cookie: newcomer, origin: api.baseUrl };
      const revoke = await apiFetch(api, 'DELETE', `/api/invitations/${theirInvitation.id}`, undefined, headers);
      assert.equal(revoke.status, 404);
      const demote = await apiFetch(api, 'PATCH', `/api/members/${theirs.userId}`, { role: 'viewer' }, headers);
      assert.equal(demote.status, 404);
      const list = await apiFetch(api, 'GET', '/api/invitations', undefined, headers);
      assert.ok(!list.body.data.some((i: { id: string }) => i.id === theirInvitation.id));
      const [still] = await api.deps.db
        .select({ status: invitation.status })
        .from(invitation)
        .where(and(eq(invitation.id, theirInvitation.id)));
      assert.equal(still!.status, 'pending');
    });
  });
});
