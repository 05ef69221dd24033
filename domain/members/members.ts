// Members of an organisation: who they are, changing their role and removing them. Every change locks the
// organisation's row first, so two admins demoting or removing each other at once cannot leave it with no admin.
import { apikey, type Database, type Executor, invitation, member, organization, user } from '@switchboard/database';
import { and, asc, count, eq, isNull } from 'drizzle-orm';
import { memberRoles, type Role } from '../../common/enums.ts';
import { forbidden, notFound, RequestError } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import type { Scope } from '../scope.ts';

export { memberRoles };
export type MemberRole = Role;

export type MemberView = { userId: string; name: string; email: string; role: MemberRole; joinedAt: string };

const memberColumns = {
  userId: user.id,
  name: user.name,
  email: user.email,
  role: member.role,
  joinedAt: member.createdAt,
};

function view(row: { userId: string; name: string; email: string; role: string; joinedAt: Date }): MemberView {
  return { ...row, role: row.role as MemberRole, joinedAt: row.joinedAt.toISOString() };
}

/** Serialises membership changes of one organisation (role changes, removals, joins) for the rest of `tx`. */
export async function lockOrganization(tx: Executor, organizationId: string): Promise<void> {
  const [found] = await tx
    .select({ id: organization.id })
    .from(organization)
    .where(eq(organization.id, organizationId))
    .for('update');
  if (!found) throw notFound('organisation');
}

/**
 * Locks the organisation and checks, under the lock, that the caller is still one of its admins. The route checked
 * the role when the request arrived; a request queued behind another admin's change (a demotion or removal of this
 * caller) must not act on that stale answer, or a demoted admin could still promote, remove or invite.
 */
export async function lockOrganizationAsAdmin(tx: Executor, scope: Scope): Promise<void> {
  await lockOrganization(tx, scope.organizationId);
  if (!scope.userId) throw forbidden('only an admin can manage members');
  const [caller] = await tx
    .select({ role: member.role })
    .from(member)
    .where(and(eq(member.organizationId, scope.organizationId), eq(member.userId, scope.userId)));
  if (caller?.role !== 'admin') throw forbidden('only an admin can manage members, and you are no longer one');
}

/** A member who stops being an admin takes their unanswered invitations with them: none may outlive the power. */
async function cancelInvitationsOf(tx: Executor, organizationId: string, userId: string): Promise<number> {
  const canceled = await tx
    .update(invitation)
    .set({ status: 'canceled' })
    .where(
      and(
        eq(invitation.organizationId, organizationId),
        eq(invitation.inviterId, userId),
        eq(invitation.status, 'pending'),
      ),
    )
    .returning({ id: invitation.id });
  return canceled.length;
}

async function adminCount(tx: Executor, organizationId: string): Promise<number> {
  const [row] = await tx
    .select({ n: count() })
    .from(member)
    .where(and(eq(member.organizationId, organizationId), eq(member.role, 'admin')));
  return row?.n ?? 0;
}

function lastAdmin(name: string, what: string): RequestError {
  return new RequestError(
    409,
    'last_admin',
    `${name} is the organisation's only admin and cannot be ${what}: make another member an admin first`,
  );
}

async function findMember(tx: Executor, organizationId: string, userId: string) {
  const [found] = await tx
    .select(memberColumns)
    .from(member)
    .innerJoin(user, eq(user.id, member.userId))
    .where(and(eq(member.organizationId, organizationId), eq(member.userId, userId)));
  // Someone else's member (or nobody) looks the same: not found.
  if (!found) throw notFound('member');
  return found;
}

export async function listMembers(db: Database, scope: Scope): Promise<MemberView[]> {
  const rows = await db
    .select(memberColumns)
    .from(member)
    .innerJoin(user, eq(user.id, member.userId))
    .where(eq(member.organizationId, scope.organizationId))
    .orderBy(asc(user.name), asc(user.id));
  return rows.map(view);
}

/** Sets a member's role; the same role is a no-op (nothing audited). The last admin cannot be demoted (409). */
export async function changeMemberRole(
  db: Database,
  scope: Scope,
  userId: string,
  role: MemberRole,
): Promise<MemberView> {
  return db.transaction(async (tx) => {
    await lockOrganizationAsAdmin(tx, scope);
    const current = await findMember(tx, scope.organizationId, userId);
    if (current.role === role) return view(current);
    if (current.role === 'admin' && (await adminCount(tx, scope.organizationId)) <= 1)
      throw lastAdmin(current.name || current.email, 'demoted');
    await tx
      .update(member)
      .set({ role })
      .where(and(eq(member.organizationId, scope.organizationId), eq(member.userId, userId)));
    const invitationsCanceled =
      current.role === 'admin' ? await cancelInvitationsOf(tx, scope.organizationId, userId) : 0;
    await recordAudit(tx, scope, {
      action: 'member.role_changed',
      entityType: 'member',
      entityId: userId,
      metadata: { email: current.email, from: current.role, to: role, invitationsCanceled },
    });
    return view({ ...current, role });
  });
}

/**
 * Removes a member from the organisation (their account stays: it may belong to other organisations) and revokes
 * the API keys they issued here, so inviting them again later does not bring old keys back to life. The last admin
 * cannot be removed (409).
 */
export async function removeMember(db: Database, scope: Scope, userId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockOrganizationAsAdmin(tx, scope);
    const current = await findMember(tx, scope.organizationId, userId);
    if (current.role === 'admin' && (await adminCount(tx, scope.organizationId)) <= 1)
      throw lastAdmin(current.name || current.email, 'removed');
    const invitationsCanceled = await cancelInvitationsOf(tx, scope.organizationId, userId);
    await tx.delete(member).where(and(eq(member.organizationId, scope.organizationId), eq(member.userId, userId)));
    const revoked = await tx
      .update(apikey)
      .set({ revokedAt: new Date() })
      .where(and(eq(apikey.organizationId, scope.organizationId), eq(apikey.userId, userId), isNull(apikey.revokedAt)))
      .returning({ id: apikey.id });
    await recordAudit(tx, scope, {
      action: 'member.removed',
      entityType: 'member',
      entityId: userId,
      metadata: { email: current.email, role: current.role, apiKeysRevoked: revoked.length, invitationsCanceled },
    });
  });
}
