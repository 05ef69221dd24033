// Master key rotation for what email seals: each mailbox's reply-token key and each held message's copy. Their data
// keys are re-wrapped with the active master key (payloads unchanged), like integration credentials; safe to run
// again or while the service runs (compare-and-set on the whole envelope).
import { type CredentialEnvelope, type Database, emailInbound, emailMailboxes } from '@switchboard/database';
import { and, eq, isNotNull, sql } from 'drizzle-orm';
import type { KeyRing } from '../../common/config.ts';
import { EnvelopeError, rewrapEnvelope } from '../../common/crypto/envelope.ts';
import type { RotationReport } from '../integrations/rotate-credential-keys.ts';
import { heldMessageContext, replyKeyContext } from './mailboxes.ts';

export async function rotateEmailKeys(db: Database, keys: KeyRing): Promise<RotationReport> {
  const report: RotationReport = { scanned: 0, rewrapped: 0, alreadyCurrent: 0, changedMeanwhile: 0, failed: [] };
  const rewrap = async (
    row: { id: string; organizationId: string; envelope: CredentialEnvelope },
    context: string,
    write: (next: CredentialEnvelope, previous: CredentialEnvelope) => Promise<boolean>,
  ) => {
    report.scanned++;
    if (row.envelope.kid === keys.activeKeyId) {
      report.alreadyCurrent++;
      return;
    }
    let next: CredentialEnvelope;
    try {
      next = rewrapEnvelope(keys, row.envelope, context);
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      report.failed.push({ id: row.id, organizationId: row.organizationId, reason: error.message });
      return;
    }
    if (await write(next, row.envelope)) report.rewrapped++;
    else report.changedMeanwhile++;
  };

  const mailboxes = await db.select().from(emailMailboxes);
  for (const mailbox of mailboxes)
    await rewrap(
      { id: mailbox.integrationId, organizationId: mailbox.organizationId, envelope: mailbox.replyTokenKey },
      replyKeyContext(mailbox.organizationId, mailbox.integrationId),
      async (next, previous) =>
        (
          await db
            .update(emailMailboxes)
            .set({ replyTokenKey: next })
            .where(
              and(
                eq(emailMailboxes.integrationId, mailbox.integrationId),
                sql`${emailMailboxes.replyTokenKey} = ${JSON.stringify(previous)}::jsonb`,
              ),
            )
            .returning({ id: emailMailboxes.integrationId })
        ).length > 0,
    );

  const held = await db
    .select({ id: emailInbound.id, organizationId: emailInbound.organizationId, sealed: emailInbound.heldMessage })
    .from(emailInbound)
    .where(isNotNull(emailInbound.heldMessage));
  for (const row of held)
    await rewrap(
      { id: row.id, organizationId: row.organizationId, envelope: row.sealed! },
      heldMessageContext(row.organizationId, row.id),
      async (next, previous) =>
        (
          await db
            .update(emailInbound)
            .set({ heldMessage: next })
            .where(
              and(eq(emailInbound.id, row.id), sql`${emailInbound.heldMessage} = ${JSON.stringify(previous)}::jsonb`),
            )
            .returning({ id: emailInbound.id })
        ).length > 0,
    );
  return report;
}
