import { type Executor, member } from '@switchboard/database';
import { and, eq } from 'drizzle-orm';
import { validationFailed } from '../../common/errors.ts';

/** A ticket can only be assigned to someone in its organisation. */
export async function assertAssignable(db: Executor, organizationId: string, assigneeId: string): Promise<void> {
  const [found] = await db
    .select({ id: member.id })
    .from(member)
    .where(and(eq(member.organizationId, organizationId), eq(member.userId, assigneeId)));
  if (!found)
    throw validationFailed('assigneeId is not a member of this organisation', [
      { path: 'assigneeId', message: 'not a member of this organisation' },
    ]);
}
