// An organisation's member by email (any case) or by user id: who someone from another system is here (a Slack user,
// a Linear assignee, an invitee), with the role that decides what they may do.
import { type Executor, member, user } from '@switchboard/database';
import { and, eq, sql } from 'drizzle-orm';

export type OrgMember = { userId: string; role: string; name: string; email: string };

/** A member of the organisation by email (any case), or null. */
export async function memberByEmail(db: Executor, organizationId: string, email: string): Promise<OrgMember | null> {
  const [found] = await db
    .select({ userId: user.id, role: member.role, name: user.name, email: user.email })
    .from(user)
    .innerJoin(member, and(eq(member.userId, user.id), eq(member.organizationId, organizationId)))
    .where(eq(sql`lower(${user.email})`, email.trim().toLowerCase()))
    .limit(1);
  return found ?? null;
}

export async function memberById(db: Executor, organizationId: string, userId: string): Promise<OrgMember | null> {
  const [found] = await db
    .select({ userId: user.id, role: member.role, name: user.name, email: user.email })
    .from(user)
    .innerJoin(member, and(eq(member.userId, user.id), eq(member.organizationId, organizationId)))
    .where(eq(user.id, userId))
    .limit(1);
  return found ?? null;
}
