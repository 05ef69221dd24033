// Invitations: how people join an organisation. An admin invites an email address with a role; the link carries a
// 256-bit token shown once (only its SHA-256 is stored); whoever opens it before it expires or is revoked either
// creates the account for that address or, when the address already has one, signs in as it, and becomes a member.
// Sign-up stays closed otherwise: this is the only way an account is created over HTTP.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { account, type Database, type Executor, invitation, member, organization, user } from '@switchboard/database';
import { and, desc, eq, gt, sql } from 'drizzle-orm';
import { notFound, RequestError, unauthenticated } from '../../common/errors.ts';
import { recordAudit } from '../audit.ts';
import type { Scope } from '../scope.ts';
import { memberByEmail } from './lookup.ts';
import { lockOrganization, lockOrganizationAsAdmin, type MemberRole } from './members.ts';

export const INVITATION_TOKEN_PATTERN = /^sbi_[A-Za-z0-9_-]{43}$/;
export const DEFAULT_INVITATION_DAYS = 7;
export const MAX_INVITATION_DAYS = 30;

export type InvitationView = {
  id: string;
  email: string;
  role: MemberRole;
  /** `expired`: still unanswered, but past its expiry; it can only be revoked. */
  status: 'pending' | 'expired';
  expiresAt: string;
  createdAt: string;
  invitedBy: { userId: string; name: string } | null;
};

export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function newToken(): string {
  return `sbi_${randomBytes(32).toString('base64url')}`;
}

const invitationColumns = {
  id: invitation.id,
  email: invitation.email,
  role: invitation.role,
  expiresAt: invitation.expiresAt,
  createdAt: invitation.createdAt,
  inviterId: user.id,
  inviterName: user.name,
};

function view(row: {
  id: string;
  email: string;
  role: string | null;
  expiresAt: Date;
  createdAt: Date;
  inviterId: string | null;
  inviterName: string | null;
}): InvitationView {
  return {
    id: row.id,
    email: row.email,
    role: (row.role ?? 'agent') as MemberRole,
    status: row.expiresAt.getTime() > Date.now() ? 'pending' : 'expired',
    expiresAt: row.expiresAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    invitedBy: row.inviterId ? { userId: row.inviterId, name: row.inviterName ?? '' } : null,
  };
}

const conflict = (code: string, message: string) => new RequestError(409, code, message);

/**
 * Invites `email` with `role`. Refused (409) when the address is already a member or has an invitation still
 * pending. Returns the invitation and its token: the only time the token exists outside the invitee's link.
 */
export async function createInvitation(
  db: Database,
  scope: Scope,
  input: { email: string; role: MemberRole; expiresInDays?: number | undefined },
): Promise<{ invitation: InvitationView; token: string }> {
  if (!scope.userId) throw new Error('an invitation needs the user who sends it');
  const inviterId = scope.userId;
  const email = input.email.trim().toLowerCase();
  const days = input.expiresInDays ?? DEFAULT_INVITATION_DAYS;
  return db.transaction(async (tx) => {
    // One invitation or join at a time per organisation: two admins inviting the same address at once get one
    // invitation and a 409, not two live links.
    await lockOrganizationAsAdmin(tx, scope);
    if (await memberByEmail(tx, scope.organizationId, email))
      throw conflict('already_member', `this organisation already has a member with the address ${email}`);
    const [pending] = await tx
      .select({ expiresAt: invitation.expiresAt })
      .from(invitation)
      .where(
        and(
          eq(invitation.organizationId, scope.organizationId),
          eq(invitation.email, email),
          eq(invitation.status, 'pending'),
          gt(invitation.expiresAt, new Date()),
        ),
      );
    if (pending)
      throw conflict(
        'already_invited',
        `an invitation for ${email} is still pending (until ${pending.expiresAt.toISOString()}): revoke it to create a new link`,
      );
    const token = newToken();
    const [created] = await tx
      .insert(invitation)
      .values({
        id: randomUUID(),
        organizationId: scope.organizationId,
        email,
        role: input.role,
        status: 'pending',
        expiresAt: new Date(Date.now() + days * 86_400_000),
        inviterId,
        tokenHash: hashInvitationToken(token),
      })
      .returning({ id: invitation.id, expiresAt: invitation.expiresAt, createdAt: invitation.createdAt });
    const [inviter] = await tx.select({ name: user.name }).from(user).where(eq(user.id, inviterId));
    await recordAudit(tx, scope, {
      action: 'invitation.created',
      entityType: 'invitation',
      entityId: created!.id,
      metadata: { email, role: input.role, expiresAt: created!.expiresAt.toISOString() },
    });
    const invitationView = view({
      ...created!,
      email,
      role: input.role,
      inviterId,
      inviterName: inviter?.name ?? null,
    });
    return { invitation: invitationView, token };
  });
}

/** Invitations not yet answered (pending, or expired unanswered), newest first. */
export async function listInvitations(db: Database, scope: Scope): Promise<InvitationView[]> {
  const rows = await db
    .select(invitationColumns)
    .from(invitation)
    .leftJoin(user, eq(user.id, invitation.inviterId))
    .where(and(eq(invitation.organizationId, scope.organizationId), eq(invitation.status, 'pending')))
    .orderBy(desc(invitation.createdAt), desc(invitation.id));
  return rows.map(view);
}

/** Revokes an unanswered invitation: its link stops working at once. */
export async function revokeInvitation(db: Database, scope: Scope, invitationId: string): Promise<void> {
  await db.transaction(async (tx) => {
    await lockOrganizationAsAdmin(tx, scope);
    const [found] = await tx
      .select({ email: invitation.email, role: invitation.role, status: invitation.status })
      .from(invitation)
      .where(and(eq(invitation.id, invitationId), eq(invitation.organizationId, scope.organizationId)))
      .for('update');
    if (!found) throw notFound('invitation');
    if (found.status === 'accepted')
      throw conflict('invitation_used', `the invitation was already accepted: remove the member instead`);
    if (found.status !== 'pending') throw conflict('invitation_revoked', 'the invitation was already revoked');
    await tx.update(invitation).set({ status: 'canceled' }).where(eq(invitation.id, invitationId));
    await recordAudit(tx, scope, {
      action: 'invitation.revoked',
      entityType: 'invitation',
      entityId: invitationId,
      metadata: { email: found.email, role: found.role },
    });
  });
}

type InvitationRow = {
  id: string;
  organizationId: string;
  organizationName: string;
  email: string;
  role: string | null;
  status: string;
  expiresAt: Date;
  inviterName: string | null;
};

const gone = (code: string, message: string) => new RequestError(410, code, message);

/** The invitation behind a token, if it can still be accepted; otherwise a 404 or a 410 saying why not. */
async function usableInvitation(tx: Executor, token: string, lock: boolean): Promise<InvitationRow> {
  const query = tx
    .select({
      id: invitation.id,
      organizationId: invitation.organizationId,
      organizationName: organization.name,
      email: invitation.email,
      role: invitation.role,
      status: invitation.status,
      expiresAt: invitation.expiresAt,
      inviterName: user.name,
    })
    .from(invitation)
    .innerJoin(organization, eq(organization.id, invitation.organizationId))
    .leftJoin(user, eq(user.id, invitation.inviterId))
    .where(eq(invitation.tokenHash, hashInvitationToken(token)));
  const [found] = lock ? await query.for('update', { of: invitation }) : await query;
  if (!found) throw notFound('invitation (the link is wrong or incomplete)');
  if (found.status === 'accepted') throw gone('invitation_used', 'this invitation has already been used');
  if (found.status !== 'pending')
    throw gone('invitation_revoked', 'this invitation was revoked: ask an admin of the organisation for a new one');
  if (found.expiresAt.getTime() <= Date.now())
    throw gone(
      'invitation_expired',
      `this invitation expired at ${found.expiresAt.toISOString()}: ask an admin of the organisation for a new one`,
    );
  return found;
}

async function userByEmail(tx: Executor, email: string) {
  const [found] = await tx.select({ id: user.id }).from(user).where(sql`lower(${user.email}) = ${email.toLowerCase()}`);
  return found;
}

export type InvitationPreview = {
  organization: { name: string };
  email: string;
  role: MemberRole;
  expiresAt: string;
  invitedBy: string | null;
  /** Whether the address already has an account: then the invitee signs in rather than choosing a password. */
  accountExists: boolean;
};

/** What the invitation behind a token offers, for the page the link opens. */
export async function previewInvitation(db: Database, token: string): Promise<InvitationPreview> {
  const found = await usableInvitation(db, token, false);
  return {
    organization: { name: found.organizationName },
    email: found.email,
    role: (found.role ?? 'agent') as MemberRole,
    expiresAt: found.expiresAt.toISOString(),
    invitedBy: found.inviterName,
    accountExists: Boolean(await userByEmail(db, found.email)),
  };
}

/** Who is accepting: a new account for the invited address, the signed-in account, or nobody yet. */
export type Acceptor =
  | { kind: 'new-account'; name: string; passwordHash: string; userId: string; accountId: string }
  | { kind: 'signed-in'; userId: string; email: string }
  | { kind: 'anonymous' };

export type Accepted = { organizationId: string; userId: string; email: string; role: MemberRole; newAccount: boolean };

/**
 * Accepts the invitation behind `token` (once: the row is locked and marked accepted in the same transaction as the
 * membership). A new account is created only for an address that has none; an address with an account must be
 * signed in as it. The membership is in the invitation's organisation and nowhere else.
 */
export async function acceptInvitation(
  db: Database,
  token: string,
  acceptor: Acceptor,
  requestId?: string,
): Promise<Accepted> {
  return db.transaction(async (tx) => {
    const found = await usableInvitation(tx, token, true);
    await lockOrganization(tx, found.organizationId);
    const existing = await userByEmail(tx, found.email);
    let userId: string;
    if (acceptor.kind === 'new-account') {
      if (existing)
        throw conflict(
          'account_exists',
          `an account with the address ${found.email} exists: sign in as it, then accept the invitation without a password`,
        );
      userId = acceptor.userId;
      // Another organisation's invitation for the same new address, accepted at the same moment, may have made the
      // account since we looked (each accept locks only its own organisation): the same 409, not a 500.
      const [made] = await tx
        .insert(user)
        .values({ id: userId, name: acceptor.name, email: found.email, emailVerified: false })
        .onConflictDoNothing({ target: user.email })
        .returning({ id: user.id });
      if (!made)
        throw conflict(
          'account_exists',
          `an account with the address ${found.email} exists: sign in as it, then accept the invitation without a password`,
        );
      await tx.insert(account).values({
        id: acceptor.accountId,
        accountId: userId,
        providerId: 'credential',
        userId,
        password: acceptor.passwordHash,
      });
    } else if (acceptor.kind === 'signed-in') {
      if (acceptor.email.toLowerCase() !== found.email)
        throw new RequestError(
          403,
          'wrong_account',
          `this invitation is for ${found.email}, but you are signed in as ${acceptor.email}: sign out and sign in as ${found.email}`,
        );
      userId = acceptor.userId;
    } else if (existing) {
      throw unauthenticated(
        `an account with the address ${found.email} exists: sign in as it to accept this invitation`,
      );
    } else {
      throw new RequestError(422, 'validation_failed', 'choose a name and a password to create your account', [
        { path: 'body.name', message: 'required to create the account' },
        { path: 'body.password', message: 'required to create the account' },
      ]);
    }

    const [already] = await tx
      .select({ id: member.id })
      .from(member)
      .where(and(eq(member.organizationId, found.organizationId), eq(member.userId, userId)));
    if (already)
      throw conflict('already_member', `the account ${found.email} is already a member of this organisation`);
    const role = (found.role ?? 'agent') as MemberRole;
    await tx.insert(member).values({ id: randomUUID(), organizationId: found.organizationId, userId, role });
    await tx.update(invitation).set({ status: 'accepted' }).where(eq(invitation.id, found.id));
    await recordAudit(
      tx,
      { organizationId: found.organizationId, actor: { type: 'user', id: userId }, userId, requestId },
      {
        action: 'invitation.accepted',
        entityType: 'invitation',
        entityId: found.id,
        metadata: { email: found.email, role, userId, newAccount: acceptor.kind === 'new-account' },
      },
    );
    return {
      organizationId: found.organizationId,
      userId,
      email: found.email,
      role,
      newAccount: acceptor.kind === 'new-account',
    };
  });
}
