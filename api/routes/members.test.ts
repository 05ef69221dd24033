import assert from 'node:assert/strict';
import { apikey, auditLog, invitation, member } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import type { RequestError } from '../../common/errors.ts';
import { createInvitation } from '../../domain/members/invitations.ts';
import { changeMemberRole, removeMember } from '../../domain/members/members.ts';
import { addTestMember, apiFetch, createTestOrganization, startTestApi, type TestApi } from '../../test/support/api.ts';
import { truncateAll } from '../../test/support/database.ts';

describe('/api/members: who is in the organisation, roles and removal', () => {
  let api: TestApi;
  before(async () => {
    await truncateAll();
    api = await startTestApi();
  });
  after(() => api.close());

  async function roleIn(organizationId: string, userId: string): Promise<string | undefined> {
    const [row] = await api.deps.db
      .select({ role: member.role })
      .from(member)
      .where(and(eq(member.organizationId, organizationId), eq(member.userId, userId)));
    return row?.role;
  }

  async function audit(organizationId: string, entityId: string) {
    return api.deps.db
      .select({ action: auditLog.action, actorId: auditLog.actorId, metadata: auditLog.metadata })
      .from(auditLog)
      .where(and(eq(auditLog.organizationId, organizationId), eq(auditLog.entityId, entityId)))
      .orderBy(auditLog.id);
  }

  it('lists the members of the caller’s organisation only, by name, to any role', async () => {
    const admin = await createTestOrganization({ userName: 'Bea Admin' });
    await addTestMember(admin.organizationId, { role: 'agent', name: 'Al Agent' });
    const viewer = await addTestMember(admin.organizationId, { role: 'viewer', name: 'Cy Viewer' });
    await createTestOrganization({ userName: 'Outsider' });

    const response = await viewer.fetch('GET', '/api/members', undefined, { as: 'apiKey' });
    assert.equal(response.status, 200);
    assert.deepEqual(
      response.body.data.map((m: { name: string; role: string }) => [m.name, m.role]),
      [
        ['Al Agent', 'agent'],
        ['Bea Admin', 'admin'],
        ['Cy Viewer', 'viewer'],
      ],
    );
    assert.ok(response.body.data.every((m: { joinedAt: string }) => !Number.isNaN(Date.parse(m.joinedAt))));
  });

  describe('changing roles', () => {
    it('lets an admin change a member’s role, which takes effect at once, audited with before and after', async () => {
      const admin = await createTestOrganization();
      const agent = await addTestMember(admin.organizationId, { role: 'agent' });
      const response = await admin.fetch('PATCH', `/api/members/${agent.userId}`, { role: 'viewer' });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      assert.equal(response.body.role, 'viewer');
      assert.equal((await agent.fetch('GET', '/api/me')).body.role, 'viewer');
      assert.equal((await agent.fetch('POST', '/api/tickets', { subject: 'Can I?' })).status, 403);

      const same = await admin.fetch('PATCH', `/api/members/${agent.userId}`, { role: 'viewer' });
      assert.equal(same.status, 200);
      const rows = await audit(admin.organizationId, agent.userId);
      assert.deepEqual(
        rows.map((r) => [r.action, r.actorId, r.metadata]),
        [
          [
            'member.role_changed',
            admin.userId,
            { email: agent.email, from: 'agent', to: 'viewer', invitationsCanceled: 0 },
          ],
        ],
      );
    });

    it('refuses to demote the only admin with a 409 naming why, and allows it once there is another', async () => {
      const admin = await createTestOrganization({ userName: 'Solo Admin' });
      const alone = await admin.fetch('PATCH', `/api/members/${admin.userId}`, { role: 'agent' });
      assert.equal(alone.status, 409);
      assert.equal(alone.body.error.code, 'last_admin');
      assert.match(alone.body.error.message, /Solo Admin is the organisation's only admin and cannot be demoted/);
      assert.equal(await roleIn(admin.organizationId, admin.userId), 'admin');

      const colleague = await addTestMember(admin.organizationId, { role: 'agent' });
      assert.equal((await admin.fetch('PATCH', `/api/members/${colleague.userId}`, { role: 'admin' })).status, 200);
      assert.equal((await admin.fetch('PATCH', `/api/members/${admin.userId}`, { role: 'agent' })).status, 200);
      assert.equal(await roleIn(admin.organizationId, admin.userId), 'agent');
    });

    it('keeps one admin when two admins demote each other at the same moment', async () => {
      // Straight to the domain function, so both changes are past the route's role check when they race (over HTTP
      // the loser is often already an agent there, and a 403 would prove nothing about the lock).
      for (let round = 0; round < 5; round++) {
        const first = await createTestOrganization();
        const second = await addTestMember(first.organizationId, { role: 'admin' });
        const scope = (userId: string) => ({
          organizationId: first.organizationId,
          actor: { type: 'user' as const, id: userId },
          userId,
        });
        const outcomes = await Promise.allSettled([
          changeMemberRole(api.deps.db, scope(first.userId), second.userId, 'agent'),
          changeMemberRole(api.deps.db, scope(second.userId), first.userId, 'agent'),
        ]);
        // The second to get the lock is no longer an admin by then: refused for that, before the count matters.
        const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [(o.reason as RequestError).code] : []));
        assert.deepEqual(refused, ['forbidden']);
        const roles = [
          await roleIn(first.organizationId, first.userId),
          await roleIn(first.organizationId, second.userId),
        ];
        assert.deepEqual(roles.sort(), ['admin', 'agent']);
      }
    });

    it('refuses a change from an admin demoted while the request waited (the role is checked again under the lock)', async () => {
      const first = await createTestOrganization();
      const second = await addTestMember(first.organizationId, { role: 'admin' });
      const bystander = await addTestMember(first.organizationId, { role: 'agent' });
      const scope = (userId: string) => ({
        organizationId: first.organizationId,
        actor: { type: 'user' as const, id: userId },
        userId,
      });
      await changeMemberRole(api.deps.db, scope(first.userId), second.userId, 'agent');
      // `second` passed the route's check as an admin; its change reaches the domain after the demotion.
      await assert.rejects(changeMemberRole(api.deps.db, scope(second.userId), bystander.userId, 'admin'), (e) => {
        assert.equal((e as RequestError).status, 403);
        return true;
      });
      await assert.rejects(
        createInvitation(api.deps.db, scope(second.userId), { email: 'x@example.test', role: 'admin' }),
      );
      assert.equal(await roleIn(first.organizationId, bystander.userId), 'agent');
    });

    it('cancels the unanswered invitations of an admin who is demoted or removed', async () => {
      const first = await createTestOrganization();
      const scope = (userId: string) => ({
        organizationId: first.organizationId,
        actor: { type: 'user' as const, id: userId },
        userId,
      });
      for (const change of ['demote', 'remove'] as const) {
        const other = await addTestMember(first.organizationId, { role: 'admin' });
        const { invitation: sent } = await createInvitation(api.deps.db, scope(other.userId), {
          email: `backdoor-${change}@example.test`,
          role: 'admin',
        });
        if (change === 'demote') await changeMemberRole(api.deps.db, scope(first.userId), other.userId, 'viewer');
        else await removeMember(api.deps.db, scope(first.userId), other.userId);
        const [row] = await api.deps.db.select().from(invitation).where(eq(invitation.id, sent.id));
        assert.equal(row?.status, 'canceled', `after ${change}`);
      }
    });

    it('changes the role in the caller’s organisation only', async () => {
      const ours = await createTestOrganization();
      const theirs = await createTestOrganization();
      const both = await addTestMember(ours.organizationId, { role: 'agent' });
      await api.auth.api.addMember({
        body: { userId: both.userId, organizationId: theirs.organizationId, role: 'agent' },
      });
      assert.equal((await ours.fetch('PATCH', `/api/members/${both.userId}`, { role: 'admin' })).status, 200);
      assert.equal(await roleIn(ours.organizationId, both.userId), 'admin');
      assert.equal(await roleIn(theirs.organizationId, both.userId), 'agent');
    });
  });

  describe('removing members', () => {
    it('removes a member: their session and API key stop working here, their keys are revoked, and it is audited', async () => {
      const admin = await createTestOrganization();
      const agent = await addTestMember(admin.organizationId, { role: 'agent' });
      const removed = await admin.fetch('DELETE', `/api/members/${agent.userId}`);
      assert.equal(removed.status, 204);

      assert.equal((await agent.fetch('GET', '/api/me')).status, 403, 'a member of no organisation');
      assert.equal((await agent.fetch('GET', '/api/me', undefined, { as: 'apiKey' })).status, 401);
      const [key] = await api.deps.db
        .select({ revokedAt: apikey.revokedAt })
        .from(apikey)
        .where(eq(apikey.id, agent.apiKeyId));
      assert.ok(key!.revokedAt, 'revoked, so inviting them again does not bring the key back');
      const list = await admin.fetch('GET', '/api/members');
      assert.ok(!list.body.data.some((m: { userId: string }) => m.userId === agent.userId));
      const rows = await audit(admin.organizationId, agent.userId);
      assert.deepEqual(
        rows.map((r) => [r.action, r.metadata]),
        [['member.removed', { email: agent.email, role: 'agent', apiKeysRevoked: 1, invitationsCanceled: 0 }]],
      );

      // Invited again, they are a member again, but the old key stays revoked.
      const invited = await admin.fetch('POST', '/api/invitations', { email: agent.email, role: 'viewer' });
      assert.equal(invited.status, 201);
      const accepted = await apiFetch(
        api,
        'POST',
        '/api/invitations/accept',
        { token: invited.body.token },
        { cookie: agent.cookie, origin: api.baseUrl },
      );
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      assert.equal((await agent.fetch('GET', '/api/me')).body.role, 'viewer');
      assert.equal((await agent.fetch('GET', '/api/me', undefined, { as: 'apiKey' })).status, 401);
    });

    it('refuses to remove the only admin (409 last_admin), and lets an admin leave once there is another', async () => {
      const admin = await createTestOrganization();
      const alone = await admin.fetch('DELETE', `/api/members/${admin.userId}`);
      assert.equal(alone.status, 409);
      assert.equal(alone.body.error.code, 'last_admin');
      assert.match(alone.body.error.message, /cannot be removed: make another member an admin first/);
      assert.equal(await roleIn(admin.organizationId, admin.userId), 'admin');

      await addTestMember(admin.organizationId, { role: 'admin' });
      assert.equal((await admin.fetch('DELETE', `/api/members/${admin.userId}`)).status, 204);
      assert.equal(await roleIn(admin.organizationId, admin.userId), undefined);
    });

    it('answers another organisation’s member, or nobody, with 404 and changes nothing', async () => {
      const ours = await createTestOrganization();
      const theirs = await createTestOrganization();
      const theirAgent = await addTestMember(theirs.organizationId, { role: 'agent' });
      for (const [method, body] of [
        ['DELETE', undefined],
        ['PATCH', { role: 'viewer' }],
      ] as const) {
        const response = await ours.fetch(method, `/api/members/${theirAgent.userId}`, body);
        assert.equal(response.status, 404, method);
        assert.equal(response.body.error.message, 'member not found');
        assert.equal((await ours.fetch(method, '/api/members/nobody', body)).status, 404);
      }
      assert.equal(await roleIn(theirs.organizationId, theirAgent.userId), 'agent');
    });
  });

  describe('who may manage members', () => {
    it('refuses agents, viewers and API keys, and names a wrong role or field', async () => {
      const admin = await createTestOrganization();
      const agent = await addTestMember(admin.organizationId, { role: 'agent' });
      const viewer = await addTestMember(admin.organizationId, { role: 'viewer' });
      assert.equal((await agent.fetch('PATCH', `/api/members/${agent.userId}`, { role: 'admin' })).status, 403);
      assert.equal((await viewer.fetch('DELETE', `/api/members/${agent.userId}`)).status, 403);
      const withKey = await admin.fetch('DELETE', `/api/members/${agent.userId}`, undefined, { as: 'apiKey' });
      assert.equal(withKey.status, 403);
      assert.match(withKey.body.error.message, /not with an API key/);

      const badRole = await admin.fetch('PATCH', `/api/members/${agent.userId}`, { role: 'owner' });
      assert.equal(badRole.status, 422);
      assert.equal(badRole.body.error.details[0].path, 'body.role');
      const extra = await admin.fetch('PATCH', `/api/members/${agent.userId}`, { role: 'viewer', name: 'x' });
      assert.equal(extra.status, 422);
      assert.equal(extra.body.error.details[0].path, 'body.name');
      assert.equal(await roleIn(admin.organizationId, agent.userId), 'agent');
    });
  });
});
